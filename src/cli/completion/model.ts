// What shell completion needs to know about walctl, taken from the command
// manifest the install ships (oclif.manifest.json, or the command classes):
// the commands, each one's flags, which flags take a value and which values
// an enumerated flag accepts. Everything else completes as a path.
import {Command} from '@oclif/core'

export interface CompletionFlag {
  /** Long name without dashes. */
  name: string
  char?: string
  /** Takes a value (`--wait 5`); false for switches. */
  takesValue: boolean
  /** The accepted values of an enumerated flag. */
  options?: string[]
  /** May be given more than once. */
  multiple: boolean
  /** `--no-NAME` is accepted too. */
  allowNo: boolean
  /** One line, for shells that show descriptions. */
  summary: string
}

export interface CompletionCommand {
  id: string
  summary: string
  flags: CompletionFlag[]
  /** Completes its first argument from this list instead of paths (help: the commands; completion: the shells). */
  firstArg?: string[]
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = (typeof SHELLS)[number]

/** The first sentence of a text, on one line, at most `max` characters. */
export function firstSentence(text: string | undefined, max = 80, end = /^(.+?[.;:])(\s|$)/): string {
  const line = (text ?? '').split('\n')[0].replace(/\s+/g, ' ').trim()
  const sentence = end.exec(line)?.[1] ?? line
  let cut = sentence.replace(/[.;:]$/, '')
  // A sentence cut inside parentheses loses the open one: `output format (default` reads `output format`.
  if ((cut.match(/\(/g) ?? []).length > (cut.match(/\)/g) ?? []).length) cut = cut.slice(0, cut.lastIndexOf('(')).trimEnd()
  return cut.length <= max ? cut : `${cut.slice(0, max - 3).trimEnd()}...`
}

/** The completion model of every visible command. */
export function completionModel(commands: readonly Command.Loadable[]): CompletionCommand[] {
  const visible = commands.filter((c) => !c.hidden).sort((a, b) => a.id.localeCompare(b.id))
  const ids = visible.map((c) => c.id)
  return visible.map((c) => {
    const flags: CompletionFlag[] = Object.values(c.flags)
      .filter((f) => !f.hidden)
      .map((f) => ({
        name: f.name,
        char: f.char,
        takesValue: f.type === 'option',
        options: f.type === 'option' && f.options && f.options.length > 0 ? [...f.options] : undefined,
        multiple: f.type === 'option' && Boolean(f.multiple),
        allowNo: f.type === 'boolean' && Boolean(f.allowNo),
        summary: firstSentence(f.summary ?? f.description),
      }))
    flags.push({name: 'help', char: 'h', takesValue: false, multiple: false, allowNo: false, summary: 'show this command\'s help'})
    const firstArg = c.id === 'help' ? ids : c.id === 'completion' ? [...SHELLS] : undefined
    return {id: c.id, summary: firstSentence(c.summary ?? c.description, 80, /^(.+?\.)(\s|$)/), flags: flags.sort((a, b) => a.name.localeCompare(b.name)), firstArg}
  })
}

/** Every spelling of a flag on the command line: `--name`, `--no-name`, `-c`. */
export function spellings(flag: CompletionFlag): string[] {
  return [`--${flag.name}`, ...(flag.allowNo ? [`--no-${flag.name}`] : []), ...(flag.char ? [`-${flag.char}`] : [])]
}
