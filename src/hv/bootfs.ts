// Boot modules as read-only files: a plain name N is /boot/N, an absolute name (/etc/xen/x.cfg) is that path.
//
// Where a module goes comes from its command line, "<file> [<args>]" (QEMU's -initrd gives
// "path args" per module, multiboot1 loaders put the loaded file first, make-iso.sh writes
// GRUB's module2 lines in that form): a second word that is an absolute path places the
// module there; otherwise it is /boot/<base name of the first word> (the shim's
// BootModule.name), whatever arguments follow, as before absolute names existed.
import type { BootModule } from './abi';

/** One boot module seen as a file. */
export interface BootFile {
  /** The file's base name. */
  name: string;
  /** Absolute path: /boot/<name>, or the absolute name the module asked for. */
  path: string;
  /** Module index for moduleData. */
  index: number;
  size: number;
  /** The module's command line as the boot loader gave it. */
  cmdline: string;
}

/**
 * Normalizes a path to absolute form ('.', '..', doubled and trailing slashes removed);
 * relative paths count from '/'.
 */
export function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** The directory part of a normalized path ('/' for top-level entries). */
function parentOf(path: string): string {
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}

/** The last component of a normalized path. */
function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The name a module asks for: the second word of its command line if it is an absolute path, else the shim's base name of the first. */
export function requestedName(m: BootModule): string {
  const words = String(m.cmdline || '').split(' ').filter((w) => w !== '');
  return words.length >= 2 && words[1].startsWith('/') ? words[1] : String(m.name || '');
}

/** The boot modules as files; / and /boot always exist, other directories exist because a file is in them. */
export class BootFs {
  private byPath = new Map<string, BootFile>();
  /** Directory -> its entries (files and subdirectories) in the order they appeared. */
  private dirs = new Map<string, string[]>([['/', ['boot']], ['/boot', []]]);
  /** Names that were changed to keep them unique or valid, for the log. */
  readonly renamed: string[] = [];

  /** data(index) returns module index's bytes (the shim's moduleData). */
  constructor(
    modules: BootModule[],
    private readonly data: (index: number) => ArrayBuffer,
  ) {
    modules.forEach((m, index) => {
      const asked = requestedName(m);
      const path = this.place(asked, index);
      if (path !== this.plainPath(asked)) this.renamed.push(`module ${index} '${asked}' is ${path}`);
      this.addParents(path);
      this.byPath.set(path, { name: baseOf(path), path, index, size: m.size, cmdline: m.cmdline });
    });
  }

  /** Where a name goes if nothing is in its way. */
  private plainPath(asked: string): string {
    return asked.startsWith('/') ? normalizePath(asked) : `/boot/${asked}`;
  }

  /** Picks a free path for module index named asked. */
  private place(asked: string, index: number): string {
    let path: string;
    if (asked.startsWith('/')) {
      path = normalizePath(asked);
      // The root, a directory, or a path below an existing file cannot hold a file.
      if (path === '/' || !this.canHold(path)) path = `/boot/${baseOf(path) || `module${index}`}`;
    } else {
      // A relative name is a name in /boot: any directories in it are flattened.
      let name = asked.replace(/\//g, '_');
      if (name === '' || name === '.' || name === '..') name = `module${index}`;
      path = `/boot/${name}`;
    }
    if (this.byPath.has(path) || this.dirs.has(path)) path = `${path}.${index}`;
    return path;
  }

  /** True if no file is in the way of path or of its parent directories. */
  private canHold(path: string): boolean {
    for (let dir = parentOf(path); dir !== '/'; dir = parentOf(dir)) {
      if (this.byPath.has(dir)) return false;
    }
    return true;
  }

  /** Records path in its directory, creating the directories above it. */
  private addParents(path: string): void {
    let child = path;
    for (;;) {
      const dir = parentOf(child);
      const entries = this.dirs.get(dir);
      if (entries) {
        entries.push(baseOf(child));
        return;
      }
      this.dirs.set(dir, []);
      this.dirs.get(dir)!.push(baseOf(child));
      child = dir;
    }
  }

  /** Every file, in module order. */
  files(): BootFile[] {
    return Array.from(this.byPath.values()).sort((a, b) => a.index - b.index);
  }

  /** The file at path, if any. */
  lookup(path: string): BootFile | undefined {
    return this.byPath.get(normalizePath(path));
  }

  /** True for a directory: /, /boot, and every directory holding a file. */
  isDirectory(path: string): boolean {
    return this.dirs.has(normalizePath(path));
  }

  /** The names in a directory (files and subdirectories, in the order they appeared), or null if it is none. */
  list(path: string): string[] | null {
    const entries = this.dirs.get(normalizePath(path));
    return entries ? entries.slice() : null;
  }

  /** The module's bytes without copying them; callers must not write to them. */
  bytes(file: BootFile): Uint8Array {
    return new Uint8Array(this.data(file.index), 0, file.size);
  }
}
