import {Args} from '@oclif/core'
import {WalCommand} from '../cli/base.js'
import {bashScript} from '../cli/completion/bash.js'
import {fishScript} from '../cli/completion/fish.js'
import {completionModel, Shell, SHELLS} from '../cli/completion/model.js'
import {zshScript} from '../cli/completion/zsh.js'

export default class Completion extends WalCommand {
  static summary = 'Print a tab-completion script for bash, zsh or fish.'
  static description = `The script completes the commands, every command's flags at any position (also after a path), the values of flags that take one of a fixed set (--format, --mode, --input, --encoding, ...), and paths everywhere else. It is generated from the commands of this install, keeps no cache and never runs walctl while you type: print it again after an upgrade.

bash: source <(walctl completion bash) in ~/.bashrc, or save it as ~/.local/share/bash-completion/completions/walctl.
zsh: source <(walctl completion zsh) in ~/.zshrc after compinit, or save it as _walctl in a directory of $fpath.
fish: walctl completion fish > ~/.config/fish/completions/walctl.fish`
  static examples = [
    'source <(<%= config.bin %> <%= command.id %> bash)',
    '<%= config.bin %> <%= command.id %> zsh > "${fpath[1]}/_walctl"',
    '<%= config.bin %> <%= command.id %> fish > ~/.config/fish/completions/walctl.fish',
  ]
  static enableJsonFlag = false
  // The name oclif's autocomplete plugin had, for the muscle memory of earlier users.
  static hiddenAliases = ['autocomplete']
  static exitCodes = {0: 'the script was printed', 64: 'no shell or an unknown one'}
  static args = {shell: Args.string({name: 'SHELL', required: true, ignoreStdin: true, options: [...SHELLS], description: 'the shell to complete in'})}

  async run(): Promise<void> {
    const {args} = await this.parse(Completion)
    const model = completionModel(this.config.commands)
    const make = {bash: bashScript, zsh: zshScript, fish: fishScript}[args.shell as Shell]
    process.stdout.write(make(this.config.bin, model))
  }
}
