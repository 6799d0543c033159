// Boot modules named by absolute paths: where each module goes, implicit directories, listing through `fs`, conflicts.
import { describe, expect, test } from '@jest/globals';
import { BootFs, requestedName } from '../../src/hv/bootfs';
import type { BootModule } from '../../src/hv/abi';
import { createFs } from '../../src/runtime/files';
import { FakeShim } from '../fakeShim';

/** Boots a fake shim with modules given as [shim base name, command line, contents]. */
function bootFs(mods: Array<[string, string, string]>) {
  const shim = new FakeShim({ modules: mods.map(([name, cmdline, data]) => ({ name, cmdline, data })) });
  const fsys = new BootFs(shim.bootInfo().modules, (i) => shim.moduleData(i));
  return { fsys, fs: createFs(fsys) };
}

const mod = (name: string, cmdline: string): BootModule => ({ name, cmdline, addr: 0 as BootModule['addr'], size: 0 });

describe('the name a module asks for', () => {
  test('QEMU -initrd "file /abs/name" and GRUB module2 "file file /abs/name": an absolute second word', () => {
    expect(requestedName(mod('debian.cfg', 'scripts/iso/debian.cfg /etc/xen/debian.cfg'))).toBe('/etc/xen/debian.cfg');
    expect(requestedName(mod('debian.cfg', '/boot/modules/etc/xen/debian.cfg /etc/xen/debian.cfg'))).toBe('/etc/xen/debian.cfg');
  });

  test('otherwise the first word counts by its base name, whatever arguments follow', () => {
    expect(requestedName(mod('vmlinux', '/boot/modules/vmlinux vmlinux'))).toBe('vmlinux');
    expect(requestedName(mod('vmlinuz', '/boot/vmlinuz console=hvc0 /x'))).toBe('vmlinuz');
    expect(requestedName(mod('init.js', '/work/main/test/qemu/files/init.js'))).toBe('init.js');
    expect(requestedName(mod('hello.js', 'hello.js'))).toBe('hello.js');
    expect(requestedName(mod('', ''))).toBe('');
  });
});

describe('absolute module names', () => {
  const MODS: Array<[string, string, string]> = [
    ['vmlinux', 'build/guest/vmlinux vmlinux', 'ELF'],
    ['debian.cfg', 'scripts/iso/debian.cfg /etc/xen/debian.cfg', 'name = "debian"\n'],
    ['hello.cfg', 'x/hello.cfg /etc/xen/./sub/../hello.cfg', 'name = "hello"\n'],
    ['motd', 'x/motd /etc/motd', 'hi\n'],
  ];

  test('appear at their path; plain names stay in /boot', () => {
    const { fsys, fs } = bootFs(MODS);
    expect(fsys.files().map((f) => f.path)).toEqual(['/boot/vmlinux', '/etc/xen/debian.cfg', '/etc/xen/hello.cfg', '/etc/motd']);
    expect(fsys.lookup('/etc/xen/debian.cfg')).toMatchObject({ name: 'debian.cfg', index: 1 });
    expect(fs.readTextFile('/etc/xen/debian.cfg')).toBe('name = "debian"\n');
    expect(fs.readTextFile('etc//xen/hello.cfg')).toBe('name = "hello"\n');
    expect(fsys.lookup('/boot/debian.cfg')).toBeUndefined();
    expect(fsys.renamed).toEqual([]);
  });

  test('their directories exist implicitly and list in the fs API', () => {
    const { fs } = bootFs(MODS);
    expect(fs.list()).toEqual(['boot', 'etc']);
    expect(fs.list('/etc')).toEqual(['xen', 'motd']);
    expect(fs.list('/etc/xen/')).toEqual(['debian.cfg', 'hello.cfg']);
    expect(fs.list('/boot')).toEqual(['vmlinux']);
    expect(fs.stat('/etc/xen').isDirectory()).toBe(true);
    expect(fs.exists('/etc')).toBe(true);
    expect(() => fs.readFile('/etc/xen')).toThrow("EISDIR: illegal operation on a directory, open '/etc/xen'");
    expect(() => fs.list('/etc/motd')).toThrow("ENOTDIR: not a directory, scandir '/etc/motd'");
    expect(() => fs.list('/etc/nope')).toThrow("ENOENT: no such file or directory, scandir '/etc/nope'");
  });

  test('/boot/<name> spelled out is the same as the plain name', () => {
    const { fsys } = bootFs([['a', 'x/a /boot/a', '1'], ['a', 'y/a a', '2']]);
    expect(fsys.files().map((f) => f.path)).toEqual(['/boot/a', '/boot/a.1']);
    expect(fsys.renamed).toEqual(["module 1 'a' is /boot/a.1"]);
  });

  test('a name that is a directory, the root, or lies below a file goes elsewhere, logged', () => {
    const { fsys, fs } = bootFs([
      ['x.cfg', 'f /etc/xen/x.cfg', '1'],
      ['xen', 'f /etc/xen', '2'],
      ['y', 'f /etc/xen/x.cfg/y', '3'],
      ['r', 'f /', '4'],
      ['s', 'f /../../etc/s', '5'],
    ]);
    expect(fsys.files().map((f) => f.path)).toEqual(['/etc/xen/x.cfg', '/etc/xen.1', '/boot/y', '/boot/module3', '/etc/s']);
    expect(fsys.renamed).toEqual([
      "module 1 '/etc/xen' is /etc/xen.1",
      "module 2 '/etc/xen/x.cfg/y' is /boot/y",
      "module 3 '/' is /boot/module3",
    ]);
    expect(fs.list('/etc')).toEqual(['xen', 'xen.1', 's']);
    expect(fs.readTextFile('/etc/xen/x.cfg')).toBe('1');
  });
});
