// Boot modules as read-only files: module i named N becomes /boot/N.
import type { BootModule } from './abi';

/** One boot module seen as a file. */
export interface BootFile {
  /** File name under /boot. */
  name: string;
  /** Absolute path, /boot/<name>. */
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

/** The boot modules as files under /boot; the only directories are / and /boot. */
export class BootFs {
  private byName = new Map<string, BootFile>();
  /** Names that were changed to keep them unique or valid, for the log. */
  readonly renamed: string[] = [];

  /** data(index) returns module index's bytes (the shim's moduleData). */
  constructor(
    modules: BootModule[],
    private readonly data: (index: number) => ArrayBuffer,
  ) {
    modules.forEach((m, index) => {
      // The shim already reduced the name to a base name; guard against odd loaders anyway.
      let name = String(m.name || '').replace(/\//g, '_');
      if (name === '' || name === '.' || name === '..') name = `module${index}`;
      if (this.byName.has(name)) name = `${name}.${index}`;
      if (name !== m.name) this.renamed.push(`module ${index} '${m.name}' is /boot/${name}`);
      this.byName.set(name, { name, path: `/boot/${name}`, index, size: m.size, cmdline: m.cmdline });
    });
  }

  /** Every file, in module order. */
  files(): BootFile[] {
    return Array.from(this.byName.values());
  }

  /** The file at path, if any. */
  lookup(path: string): BootFile | undefined {
    const p = normalizePath(path);
    return p.startsWith('/boot/') ? this.byName.get(p.slice(6)) : undefined;
  }

  /** True for the two directories, / and /boot. */
  isDirectory(path: string): boolean {
    const p = normalizePath(path);
    return p === '/' || p === '/boot';
  }

  /** The module's bytes without copying them; callers must not write to them. */
  bytes(file: BootFile): Uint8Array {
    return new Uint8Array(this.data(file.index), 0, file.size);
  }
}
