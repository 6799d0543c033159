// Builds the real bundle and runs it in QuickJS (quickjs-emscripten) with a fake __shim inside the VM.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newQuickJSWASMModule, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime, type QuickJSSyncVariant } from 'quickjs-emscripten';
import releaseSync from '@jitl/quickjs-wasmfile-release-sync';
import { ABI_VERSION } from '../../src/hv/abi';

// quickjs-emscripten loads its engine with a dynamic import(), which Jest's CommonJS mode cannot run;
// the same release variant is loaded here with require() instead.
const variant: QuickJSSyncVariant = {
  ...releaseSync,
  importModuleLoader: () => Promise.resolve(require('@jitl/quickjs-wasmfile-release-sync/emscripten-module')),
};

const ROOT = join(__dirname, '..', '..');
let bundle = '';
let outDir = '';

beforeAll(() => {
  // esbuild.config.mjs is ESM; running it as a script builds with exactly its bundleOptions.
  outDir = mkdtempSync(join(tmpdir(), 'zazen-bundle-'));
  execFileSync(process.execPath, ['esbuild.config.mjs', join(outDir, 'zazen.js')], { cwd: ROOT, stdio: 'pipe' });
  bundle = readFileSync(join(outDir, 'zazen.js'), 'utf8');
});

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('bundle text', () => {
  // quickjs-emscripten runs a 2024 engine, so the 2021 gaps are checked statically.
  const unsupported: [string, RegExp][] = [
    ['Array/String .at()', /\.at\(/],
    ['Object.hasOwn', /\bObject\.hasOwn\s*\(/],
    ['findLast/findLastIndex', /\.findLast(Index)?\(/],
    ['WeakRef', /\bWeakRef\b/],
    ['FinalizationRegistry', /\bFinalizationRegistry\b/],
    ['structuredClone', /\bstructuredClone\s*\(/],
    ['class static blocks', /\bstatic\s*\{/],
    ['change-array-by-copy methods', /\.(toSorted|toReversed|toSpliced)\(/],
    ['groupBy / withResolvers / fromAsync', /\b(Object|Map)\.groupBy\b|Promise\.withResolvers|Array\.fromAsync/],
    ['Error cause option', /new \w*Error\([^)]*\{\s*cause\s*:/],
  ];
  test.each(unsupported)('does not use %s', (_name, pattern) => {
    expect(bundle.length).toBeGreaterThan(10000);
    const hit = pattern.exec(bundle);
    expect(hit ? bundle.slice(Math.max(0, hit.index - 60), hit.index + 60) : null).toBeNull();
  });

  test('stays small', () => {
    // The kernel (engine ~750 KB + shim + bytecode) must stay under 1.5 MB.
    expect(bundle.length).toBeLessThan(512 * 1024);
  });
});

// The fake shim inside QuickJS; console, clock and Ctrl-C arming go through __host functions.
interface BootOptions {
  initJs?: string;
  abiVersion?: number;
}

const fakeShim = (o: BootOptions) => `
(() => {
  const memory = new ArrayBuffer(0x100000);
  const text = (s) => { const b = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i); return b.buffer; };
  const modules = [
    { name: 'init.js', cmdline: '/boot/init.js', addr: 0x2000000, data: ${JSON.stringify(o.initJs ?? 'var initValue = 40 + 2; console.log("init.js ran");')} },
    { name: 'vmlinuz', cmdline: '/boot/vmlinuz console=hvc0', addr: 0x3000000, data: 'MZ' },
  ];
  globalThis.__shim = {
    abiVersion: () => ${o.abiVersion ?? ABI_VERSION},
    consoleWrite: (t) => __host.write(String(t)),
    consoleRead: () => __host.read(),
    runInterruptible: (fn) => __host.runInterruptible(fn),
    monotonicNs: () => __host.now(),
    wallClockMs: () => 1735689600000 + __host.now() / 1e6,
    readTsc: () => BigInt(Math.floor(__host.now())),
    physView: (addr, len) => {
      if (addr < 0 || len <= 0 || addr + len > memory.byteLength) throw new RangeError('not mapped');
      return memory.slice(addr, addr + len);
    },
    framesAlloc: () => { throw new RangeError('no frames in this fake'); },
    framesFree: () => { throw new RangeError('nothing allocated'); },
    memStats: () => ({ totalBytes: 256 * 1048576, freeBytes: 200 * 1048576, imageBytes: 1048576, stackBytes: 262144,
      heapBytes: 8 * 1048576, heapUsedBytes: 4 * 1048576, framesAllocatedBytes: 0, moduleBytes: 4096 }),
    portIn: () => 0xff,
    portOut: () => undefined,
    rdmsr: (msr) => { throw new RangeError('#GP reading MSR ' + msr); },
    wrmsr: (msr) => { throw new RangeError('#GP writing MSR ' + msr); },
    cpuid: (leaf, sub) => ({ 0: [0xd, 0x68747541, 0x444d4163, 0x69746e65], 1: [0x663, 0x800, 0x80002001, 0x078bfbfd],
      0x80000000: [0x8000000a, 0, 0, 0], 0x80000001: [0, 0, 4, 0x2191abff], 0x8000000a: [1, 16, 0, 1] })[leaf] || [0, 0, 0, 0],
    bootInfo: () => ({ loader: 'multiboot1', firmware: 'bios', cmdline: 'zazen.elf console=com1', rsdp: 0, memoryMap: [],
      modules: modules.map((m) => ({ name: m.name, cmdline: m.cmdline, addr: m.addr, size: m.data.length })),
      imageStart: 0x100000, imageEnd: 0x200000, tscHz: 2000000000, apicMode: 'xapic' }),
    moduleData: (i) => { if (!modules[i]) throw new RangeError('no module ' + i); return text(modules[i].data); },
    bootLog: () => 'shim: booted\\n',
    gc: () => undefined,
    reboot: () => undefined,
  };
})();
`;

interface Machine {
  rt: QuickJSRuntime;
  vm: QuickJSContext;
  output: () => string;
  /** Types bytes, runs the shim loop until quiet, returns the new output. */
  type: (bytes: string) => string;
  pressCtrlCDuringNextRun: () => void;
}

async function boot(opts: BootOptions = {}): Promise<Machine> {
  const QuickJS = await newQuickJSWASMModule(variant);
  const rt = QuickJS.newRuntime();
  rt.setMemoryLimit(48 * 1024 * 1024);
  // Small enough that QuickJS's own stack check fires before the WebAssembly host stack runs out.
  rt.setMaxStackSize(128 * 1024);
  const vm = rt.newContext();
  let out = '';
  let input = '';
  let nowNs = 0;
  let armed = false;
  let ctrlC = false;
  // QuickJS polls this while code runs; Ctrl-C only interrupts inside runInterruptible, as in the shim.
  rt.setInterruptHandler(() => armed && ctrlC);

  const host = vm.newObject();
  const fn = (name: string, impl: Parameters<QuickJSContext['newFunction']>[1]) => {
    const h = vm.newFunction(name, impl);
    vm.setProp(host, name, h);
    h.dispose();
  };
  fn('write', (t) => {
    out += vm.getString(t);
  });
  fn('read', () => {
    const s = input;
    input = '';
    return vm.newString(s);
  });
  fn('now', () => vm.newNumber(nowNs));
  fn('runInterruptible', (f: QuickJSHandle) => {
    armed = true;
    const res = vm.callFunction(f, vm.undefined);
    armed = false;
    if (!res.error) return res.value;
    if (ctrlC) {
      // QuickJS marks "interrupted" uncatchable; the shim hands back a catchable InternalError instead.
      ctrlC = false;
      res.error.dispose();
      const err = vm.unwrapResult(vm.evalCode('new InternalError("interrupted")'));
      return { error: err };
    }
    return { error: res.error };
  });
  vm.setProp(vm.global, '__host', host);
  host.dispose();
  vm.unwrapResult(vm.evalCode(fakeShim(opts), 'fakeShim.js')).dispose();
  vm.unwrapResult(vm.evalCode(bundle, 'zazen.js')).dispose();

  const poll = (): number => {
    const hook = vm.getProp(vm.global, '__zazenPoll');
    const res = vm.callFunction(hook, vm.undefined);
    hook.dispose();
    const handle = vm.unwrapResult(res);
    const deadline = vm.dump(handle) as number;
    handle.dispose();
    return deadline;
  };
  const loop = (): void => {
    // The event loop of abi.h: jobs, poll, jobs; time advances to the next timer deadline.
    const runJobs = (): void => {
      const r = rt.executePendingJobs();
      // A job failing here would be a runtime bug: the bundle catches everything itself.
      if (r.error) throw new Error(`promise job failed: ${JSON.stringify(vm.dump(r.error))}`);
      r.dispose();
    };
    for (let i = 0; i < 20; i++) {
      runJobs();
      const deadline = poll();
      runJobs();
      if (input === '' && deadline >= 0) nowNs = Math.max(nowNs, deadline);
      else if (input === '') break;
    }
  };
  loop();
  return {
    rt,
    vm,
    output: () => out,
    type: (bytes) => {
      const before = out.length;
      input += bytes;
      loop();
      return out.slice(before);
    },
    pressCtrlCDuringNextRun: () => {
      ctrlC = true;
    },
  };
}

describe('bundle in QuickJS', () => {
  let m: Machine;
  beforeAll(async () => {
    m = await boot();
  });
  afterAll(() => {
    m.vm.dispose();
    m.rt.dispose();
  });

  test('boots: banner, init.js output, then the prompt', () => {
    expect(m.output()).toMatch(/^Welcome to zazen [\d.]+ .*\nType ".help" for more information.\ninit\.js ran\nzazen> $/);
  });

  test('1+1 answers 2 and strings are quoted', () => {
    expect(m.type('1+1\r')).toBe('1+1\n2\nzazen> ');
    expect(m.type("'a'\r")).toBe("'a'\n'a'\nzazen> ");
    expect(m.type('({ n: -0, big: 10n, s: new Set([1]) })\r')).toContain('{ n: -0, big: 10n, s: Set(1) { 1 } }\nzazen> ');
  });

  test('init.js globals are visible', () => {
    expect(m.type('initValue\r')).toBe('initValue\n42\nzazen> ');
  });

  test('a thrown error prints and the prompt returns', () => {
    expect(m.type('throw new Error("boom")\r')).toBe('throw new Error("boom")\nUncaught Error: boom\nzazen> ');
    expect(m.type('function qf() { null.x }; qf()\r')).toMatch(/\nUncaught TypeError: .*\n {4}at qf \(<input>[^)]*\)\nzazen> $/);
    expect(m.type('1 + )\r')).toMatch(/\nUncaught SyntaxError: .*\nzazen> $/);
  });

  test('multi-line input waits for completion (QuickJS end-of-input detection)', () => {
    expect(m.type('[1,\r')).toBe('[1,\n... ');
    expect(m.type('2]\r')).toBe('2]\n[ 1, 2 ]\nzazen> ');
    expect(m.type('let qv = 5\r')).toBe('let qv = 5\nundefined\nzazen> ');
    expect(m.type('qv + 1\r')).toBe('qv + 1\n6\nzazen> ');
  });

  test('xl info prints host lines with total_memory', () => {
    const out = m.type('xl info\r');
    expect(out).toContain('\ntotal_memory           : 256\n');
    expect(out).toContain('\nfree_memory            : 200\n');
    expect(out).toContain('\ncpu_mhz                : 2000.000\n');
    expect(out).toContain('\nvirt_caps              : hvm hap\n');
    expect(out).toContain('\nxen_commandline        : zazen.elf console=com1\n');
    expect(out.endsWith('xend_config_format     : 4\nzazen> ')).toBe(true);
  });

  test('xl list shows Domain-0', () => {
    expect(m.type('xl list\r')).toMatch(/^xl list\nName {40}ID {3}Mem VCPUs\tState\tTime\(s\)\nDomain-0 {37}0 {5}9 {5}1 {5}r----- +\d+\.\d\nzazen> $/);
  });

  test('xl dmesg shows the shim log then the TypeScript log', () => {
    const out = m.type('xl dmesg\r');
    expect(out).toMatch(/^xl dmesg\nshim: booted\n\[ +\d+\.\d{6}\] zazen: TypeScript runtime/);
    expect(out).toContain('] zazen: REPL ready\n');
  });

  test('Ctrl-C interrupts a runaway evaluation', () => {
    m.pressCtrlCDuringNextRun();
    expect(m.type('while (true) {}\r')).toMatch(/^while \(true\) \{\}\nUncaught InternalError: interrupted\n(.*\n)*zazen> $/);
    expect(m.type('2+2\r')).toBe('2+2\n4\nzazen> ');
  });

  test('deep recursion and huge allocations are printed, then life goes on', () => {
    expect(m.type('function deep() { return deep() }; deep()\r')).toMatch(/Uncaught (InternalError: stack overflow|RangeError: Maximum call stack size exceeded)/);
    expect(m.type('new ArrayBuffer(100 * 1024 * 1024)\r')).toMatch(/\nUncaught InternalError: out of memory\n/);
    expect(m.type("'x'.repeat(1 << 28)\r")).toMatch(/\nUncaught InternalError: out of memory\n/);
    expect(m.type('3*3\r')).toBe('3*3\n9\nzazen> ');
  });

  test('timers fire through the poll hook and print above the prompt; their errors too', () => {
    const out = m.type('setTimeout(() => console.log("tick", 1), 50); 0\r');
    expect(out).toContain('\n0\nzazen> ');
    expect(out).toContain('\r\x1b[Ktick 1\nzazen> ');
    const err = m.type('setTimeout(function late() { throw new Error("late") }, 10); 1\r');
    expect(err).toMatch(/\r\x1b\[KUncaught Error: late\n {4}at late \(<input>[^)]*\)\n[\s\S]*\(in a timer callback\)\nzazen> $/);
    expect(m.type('5\r')).toBe('5\n5\nzazen> ');
  });

  test('promises, await and polyfills work in the engine', () => {
    expect(m.type('Promise.resolve(8)\r')).toContain('Promise { 8 }\nzazen> ');
    expect(m.type('await Promise.resolve(9)\r')).toContain('\n9\nzazen> ');
    expect(m.type('[1, 2, 3].at(-1)\r')).toContain('\n3\nzazen> ');
  });

  test('fs and hv globals', () => {
    expect(m.type('fs.list("/boot")\r')).toContain("[ 'init.js', 'vmlinuz' ]");
    expect(m.type('fs.readTextFile("/boot/vmlinuz")\r')).toContain("'MZ'");
    expect(m.type('fs.writeFile("/boot/x", "y")\r')).toContain("Uncaught Error: EROFS: read-only file system, open '/boot/x'");
    expect(m.type('hv.info().nr_cpus\r')).toContain('\n1\nzazen> ');
    expect(m.type('hv.bootInfo.cmdline\r')).toContain("'zazen.elf console=com1'");
  });

  test('line editing: history, cursor keys, Tab completion', () => {
    m.type('40 + 1\r');
    expect(m.type('\x1b[A\r')).toContain('\n41\nzazen> ');
    expect(m.type('1234\x1b[D\x1b[D\x7f\r')).toContain('\n134\nzazen> ');
    expect(m.type('hv.mem\t')).toBe('hv.memStats');
    expect(m.type('()\r')).toContain('totalBytes: 268435456');
  });
});

describe('boot variants', () => {
  const machines: Machine[] = [];
  afterAll(() => {
    for (const x of machines) {
      x.vm.dispose();
      x.rt.dispose();
    }
  });
  const start = async (o: BootOptions) => {
    const x = await boot(o);
    machines.push(x);
    return x;
  };

  test('an ABI version mismatch is reported once and the machine idles', async () => {
    const x = await start({ abiVersion: ABI_VERSION + 1 });
    expect(x.output()).toBe(`zazen: cannot start: shim ABI version ${ABI_VERSION + 1} does not match the bundle's ${ABI_VERSION}\n`);
    expect(x.type('1+1\r')).toBe('');
  });

  test('a failing init.js is printed and the REPL still starts', async () => {
    const x = await start({ initJs: 'var before = 1;\nnull.boom' });
    expect(x.output()).toMatch(/\nUncaught TypeError: .*\n[\s\S]*\(in \/boot\/init\.js\)\nzazen> $/);
    expect(x.type('before\r')).toBe('before\n1\nzazen> ');
    expect(x.type('xl dmesg\r')).toContain('zazen: /boot/init.js failed');
  });

  test('an init.js ending in a promise holds the prompt until it settles', async () => {
    const x = await start({ initJs: '(async () => { await new Promise((r) => setTimeout(r, 100)); console.log("async init done"); })()' });
    expect(x.output()).toMatch(/\nasync init done\nzazen> $/);
    expect(x.type('xl dmesg\r')).toContain('zazen: /boot/init.js finished');
  });
});
