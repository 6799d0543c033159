// The `fs` global: Node-flavoured, synchronous, read-only access to the boot files.
import type { BootFs } from '../hv/bootfs';
import { decodeUtf8 } from './utf8';

const DESCRIPTIONS: Record<string, [number, string]> = {
  ENOENT: [-2, 'no such file or directory'],
  ENOTDIR: [-20, 'not a directory'],
  EISDIR: [-21, 'illegal operation on a directory'],
  EROFS: [-30, 'read-only file system'],
};

/** The fields Node's file-system errors carry. */
export interface FsError extends Error {
  errno: number;
  code: string;
  syscall: string;
  path: string;
}

/** A file-system error shaped like Node's: an Error "CODE: text, syscall 'path'" with errno/code/syscall/path. */
export function fsError(code: string, syscall: string, path: string): FsError {
  const [errno, text] = DESCRIPTIONS[code] ?? [-1, 'error'];
  const err = new Error(`${code}: ${text}, ${syscall} '${path}'`) as FsError;
  err.errno = errno;
  err.code = code;
  err.syscall = syscall;
  err.path = path;
  return err;
}

/** What stat returns. */
export interface FileStat {
  type: 'file' | 'directory';
  size: number;
  isFile(): boolean;
  isDirectory(): boolean;
}

/** The `fs` global's interface. */
export interface FsApi {
  readFile(path: string): Uint8Array;
  readTextFile(path: string): string;
  list(dir?: string): string[];
  exists(path: string): boolean;
  stat(path: string): FileStat;
  writeFile(path: string, data?: unknown): never;
  appendFile(path: string, data?: unknown): never;
  mkdir(path: string): never;
  unlink(path: string): never;
  rmdir(path: string): never;
  rename(from: string, to: string): never;
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string') throw new TypeError(`The "path" argument must be of type string. Received ${typeof path}`);
  return path;
}

/** Builds the `fs` object over a BootFs; every write throws EROFS. */
export function createFs(bootFs: BootFs): FsApi {
  const fileAt = (path: unknown, syscall: string) => {
    const p = checkPath(path);
    const file = bootFs.lookup(p);
    if (file) return file;
    throw fsError(bootFs.isDirectory(p) ? 'EISDIR' : 'ENOENT', syscall, p);
  };
  const readOnly = (syscall: string) => (path: unknown): never => {
    throw fsError('EROFS', syscall, checkPath(path));
  };
  const stat = (type: 'file' | 'directory', size: number): FileStat => ({
    type,
    size,
    isFile: () => type === 'file',
    isDirectory: () => type === 'directory',
  });
  return {
    // A copy, so scripts cannot alter the module in memory.
    readFile: (path) => bootFs.bytes(fileAt(path, 'open')).slice(),
    readTextFile: (path) => decodeUtf8(bootFs.bytes(fileAt(path, 'open'))),
    list: (dir = '/') => {
      const p = checkPath(dir);
      const entries = bootFs.list(p);
      if (!entries) throw fsError(bootFs.lookup(p) ? 'ENOTDIR' : 'ENOENT', 'scandir', p);
      return entries;
    },
    exists: (path) => typeof path === 'string' && (bootFs.isDirectory(path) || bootFs.lookup(path) !== undefined),
    stat: (path) => {
      const p = checkPath(path);
      if (bootFs.isDirectory(p)) return stat('directory', 0);
      return stat('file', fileAt(p, 'stat').size);
    },
    writeFile: readOnly('open'),
    appendFile: readOnly('open'),
    mkdir: readOnly('mkdir'),
    unlink: readOnly('unlink'),
    rmdir: readOnly('rmdir'),
    rename: readOnly('rename'),
  };
}
