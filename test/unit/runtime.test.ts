// Polyfills for the 2021 engine, uncaught-error printing, the output sink and the hv global.
import { afterEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { installPolyfills, setMicrotaskErrorReporter } from '../../src/runtime/polyfills';
import { formatUncaught, reportUncaught } from '../../src/runtime/uncaught';
import { setOutputSink, writeOutput } from '../../src/runtime/output';
import { createHvApi } from '../../src/toolstack/hvApi';
import { resetHostInfoCache } from '../../src/hv/hostInfo';
import { FakeShim } from '../fakeShim';

afterEach(() => {
  setShim(undefined);
  setOutputSink(undefined);
});

describe('polyfills', () => {
  test('install at, findLast, findLastIndex, Object.hasOwn and queueMicrotask where missing', async () => {
    // Jest gives each test file its own realm, so removing the built-ins here is contained.
    const protos = [Array.prototype, String.prototype, Object.getPrototypeOf(Uint8Array.prototype)] as Record<string, unknown>[];
    for (const p of protos) delete p.at;
    delete (Array.prototype as unknown as Record<string, unknown>).findLast;
    delete (Array.prototype as unknown as Record<string, unknown>).findLastIndex;
    delete (Object as unknown as Record<string, unknown>).hasOwn;
    const g = globalThis as unknown as Record<string, unknown>;
    const nativeQueue = g.queueMicrotask;
    delete g.queueMicrotask;
    installPolyfills();
    const arr = [1, 2, 3, 4] as unknown as { at(i: number): unknown; findLast(f: (x: number) => boolean): unknown; findLastIndex(f: (x: number) => boolean): number };
    expect([arr.at(-1), arr.at(0), arr.at(9), arr.at(1.7)]).toEqual([4, 1, undefined, 2]);
    expect(('abc' as unknown as { at(i: number): string }).at(-1)).toBe('c');
    expect((new Uint8Array([5, 6]) as unknown as { at(i: number): number }).at(-2)).toBe(5);
    expect(arr.findLast((x) => x % 2 === 1)).toBe(3);
    expect(arr.findLastIndex((x) => x > 9)).toBe(-1);
    expect(() => arr.findLast(null as unknown as (x: number) => boolean)).toThrow(TypeError);
    const hasOwn = (Object as unknown as { hasOwn(o: unknown, k: string): boolean }).hasOwn;
    expect([hasOwn({ a: 1 }, 'a'), hasOwn({}, 'toString')]).toEqual([true, false]);
    expect(Object.getOwnPropertyDescriptor(Array.prototype, 'at')?.enumerable).toBe(false);

    const errors: unknown[] = [];
    setMicrotaskErrorReporter((e) => errors.push(e));
    const order: string[] = [];
    (g.queueMicrotask as (f: () => void) => void)(() => order.push('job'));
    (g.queueMicrotask as (f: () => void) => void)(() => {
      throw new Error('job failed');
    });
    expect(() => (g.queueMicrotask as (f: unknown) => void)(5)).toThrow(TypeError);
    order.push('sync');
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual(['sync', 'job']);
    expect((errors[0] as Error).message).toBe('job failed');
    g.queueMicrotask = nativeQueue;
  });
});

describe('uncaught errors', () => {
  test('print like the Node REPL', () => {
    const e = new Error('x');
    e.stack = '';
    expect(formatUncaught(e)).toBe('Uncaught Error: x');
    expect(formatUncaught('text')).toBe("Uncaught 'text'");
    expect(formatUncaught({ a: 1 })).toBe('Uncaught { a: 1 }');
    expect(formatUncaught(Object.assign(new Error('y'), { stack: 'Error: y\n    at f (file)' }))).toBe('Uncaught Error: y\n    at f (file)');
    expect(formatUncaught({ a: 'x'.repeat(100) })).toMatch(/^Uncaught:\n\{\n/);
  });

  test('a value whose inspection throws still prints something', () => {
    const evil = new Proxy({}, { ownKeys: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); } });
    expect(formatUncaught(evil)).toBe('Uncaught <inspection failed: trap>');
  });

  test('reportUncaught names the origin and writes through the output sink', () => {
    const lines: string[] = [];
    setOutputSink((t) => lines.push(t));
    reportUncaught(Object.assign(new Error('late'), { stack: '' }), 'in a timer callback');
    expect(lines).toEqual(['Uncaught Error: late\n    (in a timer callback)\n']);
  });

  test('writeOutput falls back to the console when the sink throws', () => {
    const fake = new FakeShim();
    setShim(fake);
    setOutputSink(() => {
      throw new Error('broken sink');
    });
    writeOutput('still here\n');
    expect(fake.output).toBe('still here\n');
  });
});

describe('hv global', () => {
  test('exposes host info, memory, boot info, ACPI, the log and the shim', () => {
    const fake = new FakeShim({ cmdline: 'zazen.elf quiet' });
    setShim(fake);
    resetHostInfoCache();
    const hv = createHvApi();
    expect(hv.version).toEqual({ zazen: '0.1.0', xen: '4.17-zazen', engine: 'QuickJS 2021-03-27' });
    expect(hv.info().xen_commandline).toBe('zazen.elf quiet');
    expect(hv.memStats().totalBytes).toBe(512 * 1024 * 1024);
    expect(hv.bootInfo.tscHz).toBe(2_994_375_000);
    expect(hv.acpi().warnings).toContain('no ACPI RSDP found');
    expect(hv.dmesg()).toContain('] acpi: no usable MADT; assuming 1 CPU\n');
    hv.log('from a script');
    expect(hv.dmesg()).toMatch(/\] from a script\n$/);
    expect(hv.shim).toBe(fake);
    expect(hv.domains.list).toBeInstanceOf(Function);
  });
});
