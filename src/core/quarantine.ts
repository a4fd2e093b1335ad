// The quarantine: before a recover changes or moves a segment, a durable copy
// of it goes to `DIR/quarantine/<UTC timestamp>/` with a report.json saying
// what is done and why. Nothing in it is ever deleted by walctl.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {ExitCode, fsError, WalError} from './errors.js'
import {createFileAtomic, fsyncDir, fsyncFile} from './files.js'

export const QUARANTINE_DIR = 'quarantine'
export const REPORT_FILE = 'report.json'

/** `2026-11-24T03-50-57.123Z`: sortable, and free of the colons some file systems refuse. */
export function quarantineStamp(date: Date = new Date()): string {
  return date.toISOString().replace(/:/g, '-')
}

/** Creates `walDir/quarantine/<stamp>/` (with a suffix if that exists already) and makes it durable. */
export function createQuarantine(walDir: string, date: Date = new Date()): string {
  const root = path.join(walDir, QUARANTINE_DIR)
  try {
    if (!fs.existsSync(root)) {
      fs.mkdirSync(root)
      fsyncDir(walDir)
    }
  } catch (error) {
    throw fsError(error, root, 'create the quarantine directory', ExitCode.CANT_CREATE)
  }
  const stamp = quarantineStamp(date)
  for (let n = 0; n < 1000; n++) {
    const dir = path.join(root, n === 0 ? stamp : `${stamp}-${n}`)
    try {
      fs.mkdirSync(dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw fsError(error, dir, 'create the quarantine directory', ExitCode.CANT_CREATE)
    }
    fsyncDir(root)
    return dir
  }
  throw new WalError(ExitCode.CANT_CREATE, 'cannot create a quarantine directory: too many with the same timestamp', {file: root})
}

/** Copies `file` into `dir` under its own name and fsyncs the copy (the directory is synced by the caller). */
export function quarantineCopy(file: string, dir: string): string {
  const dest = path.join(dir, path.basename(file))
  try {
    fs.copyFileSync(file, dest, fs.constants.COPYFILE_EXCL)
  } catch (error) {
    throw fsError(error, dest, 'copy a segment into the quarantine', ExitCode.CANT_CREATE)
  }
  fsyncFile(dest)
  return dest
}

/** Writes (or replaces) the quarantine's report.json atomically and durably. */
export function writeReport(dir: string, report: unknown): string {
  const file = path.join(dir, REPORT_FILE)
  const bytes = Buffer.from(JSON.stringify(report, null, 2) + '\n', 'utf8')
  createFileAtomic(file, bytes, bytes.length, {replace: true})
  return file
}
