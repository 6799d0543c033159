// Boot modules as read-only files under /boot, and the Node-flavoured `fs` global over them.
import { describe, expect, test } from '@jest/globals';
import { BootFs, normalizePath } from '../../src/hv/bootfs';
import { createFs } from '../../src/runtime/files';
import { FakeShim } from '../fakeShim';

function setup() {
  const shim = new FakeShim({
    modules: [
      { name: 'init.js', data: 'console.log("héllo")\n' },
      { name: 'vmlinuz', data: new Uint8Array([0x4d, 0x5a, 0, 1]) },
      { name: 'vmlinuz', data: 'second' },
      { name: '', data: 'nameless' },
    ],
  });
  const bootFs = new BootFs(shim.bootInfo().modules, (i) => shim.moduleData(i));
  return { bootFs, fs: createFs(bootFs) };
}

describe('BootFs', () => {
  test('every module is /boot/<name>; duplicates and empty names get unique names', () => {
    const { bootFs } = setup();
    expect(bootFs.files().map((f) => f.path)).toEqual(['/boot/init.js', '/boot/vmlinuz', '/boot/vmlinuz.2', '/boot/module3']);
    expect(bootFs.renamed).toEqual(["module 2 'vmlinuz' is /boot/vmlinuz.2", "module 3 '' is /boot/module3"]);
    expect(bootFs.lookup('/boot/../boot/./vmlinuz')?.index).toBe(1);
    expect(bootFs.lookup('boot//init.js')?.size).toBe(22);
    expect(bootFs.lookup('/vmlinuz')).toBeUndefined();
  });

  test('normalizePath', () => {
    expect(normalizePath('')).toBe('/');
    expect(normalizePath('a/b/../c/')).toBe('/a/c');
    expect(normalizePath('/../..')).toBe('/');
  });
});

describe('fs', () => {
  test('reads bytes (a copy) and UTF-8 text', () => {
    const { fs } = setup();
    const bytes = fs.readFile('/boot/vmlinuz');
    expect(Array.from(bytes)).toEqual([0x4d, 0x5a, 0, 1]);
    bytes[0] = 0;
    expect(fs.readFile('/boot/vmlinuz')[0]).toBe(0x4d);
    expect(fs.readTextFile('/boot/init.js')).toBe('console.log("héllo")\n');
  });

  test('lists directories, answers exists and stat', () => {
    const { fs } = setup();
    expect(fs.list()).toEqual(['boot']);
    expect(fs.list('/boot/')).toEqual(['init.js', 'vmlinuz', 'vmlinuz.2', 'module3']);
    expect(fs.exists('/boot/init.js')).toBe(true);
    expect(fs.exists('/boot')).toBe(true);
    expect(fs.exists('/etc/passwd')).toBe(false);
    expect(fs.exists(42 as unknown as string)).toBe(false);
    expect(fs.stat('/boot/vmlinuz')).toMatchObject({ type: 'file', size: 4 });
    expect(fs.stat('/boot').isDirectory()).toBe(true);
  });

  test('errors look like Node: ENOENT, EISDIR, ENOTDIR, EROFS, TypeError', () => {
    const { fs } = setup();
    expect(() => fs.readFile('/boot/nope')).toThrow("ENOENT: no such file or directory, open '/boot/nope'");
    expect(() => fs.readFile('/boot')).toThrow("EISDIR: illegal operation on a directory, open '/boot'");
    expect(() => fs.list('/boot/init.js')).toThrow("ENOTDIR: not a directory, scandir '/boot/init.js'");
    expect(() => fs.list('/etc')).toThrow("ENOENT: no such file or directory, scandir '/etc'");
    expect(() => fs.stat('/x')).toThrow('ENOENT');
    for (const write of [() => fs.writeFile('/boot/x', 'data'), () => fs.appendFile('/boot/init.js'), () => fs.mkdir('/tmp'), () => fs.unlink('/boot/init.js'), () => fs.rmdir('/boot'), () => fs.rename('/boot/a', '/boot/b')]) {
      let err: (Error & { code?: string; errno?: number }) | undefined;
      try {
        write();
      } catch (e) {
        err = e as Error;
      }
      expect(err?.code).toBe('EROFS');
      expect(err?.errno).toBe(-30);
      expect(err?.message).toMatch(/^EROFS: read-only file system, \w+ '/);
    }
    expect(() => fs.readFile(undefined as unknown as string)).toThrow(TypeError);
  });
});
