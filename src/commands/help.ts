import {Args, loadHelpClass} from '@oclif/core'
import {WalCommand} from '../cli/base.js'

export default class HelpCommand extends WalCommand {
  static summary = 'Show the help of walctl or of one command.'
  static description = 'The same text as --help: usage, flags with their defaults, examples and the exit codes the command can return. Help is text only: it takes no --json (docs/JSON.md gives the JSON every command prints).'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> verify']
  static enableJsonFlag = false
  static exitCodes = {0: 'the help was shown', 64: 'an unknown command or flag'}
  static args = {command: Args.string({name: 'COMMAND', required: false, ignoreStdin: true, description: 'the command to show the help of; without it, walctl\'s'})}

  async run(): Promise<void> {
    const {args} = await this.parse(HelpCommand)
    const Help = await loadHelpClass(this.config)
    // The help class answers an unknown command with oclif's own error; walctl's hook words it.
    if (args.command && !this.config.findCommand(args.command)) {
      await this.config.runHook('command_not_found', {id: args.command, argv: []})
    }
    await new Help(this.config).showHelp(args.command ? [args.command] : [])
  }
}
