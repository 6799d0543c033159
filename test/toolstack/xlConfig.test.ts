// Tests for the xl.cfg parser, command-line overrides and the validated PVH DomainConfig.
import { describe, expect, test } from '@jest/globals';
import {
  applyXlOverrides,
  configFromObject,
  domainConfigFromXl,
  parseXlConfig,
  parseXlInteger,
  splitCreateArgs,
  XlConfig,
  XlConfigError,
  XlValue,
} from '../../src/toolstack/xlConfig';

/** A setting's value as plain data: strings and nested arrays. */
function plain(v: XlValue): unknown {
  return v.kind === 'atom' ? v.text : v.items.map(plain);
}

function get(cfg: XlConfig, key: string): unknown {
  const s = cfg.settings.get(key);
  return s ? plain(s.value) : undefined;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(XlConfigError);
    return (e as Error).message;
  }
  throw new Error('expected an XlConfigError');
}

const minimal = 'name = "vm1"\ntype = "pvh"\nkernel = "/boot/vmlinux"\n';

describe('grammar', () => {
  test('a typical file: comments, both quotes, numbers, lists over several lines', () => {
    const cfg = parseXlConfig(
      [
        '# A PVH guest',
        'name = "guest-1"   # trailing comment',
        "type='pvh'",
        'memory = 0x100',
        'vcpus=2; maxvcpus = 4',
        'disk = [ "phy:/dev/vg/a,xvda,w",',
        '',
        "         'file:/b.img,xvdb,r', ]",
        'nested = [ [ "a", 1 ], [], ]',
        'empty = []',
        'extra = "console=hvc0"',
      ].join('\n'),
      'vm.cfg',
    );
    expect(get(cfg, 'name')).toBe('guest-1');
    expect(get(cfg, 'type')).toBe('pvh');
    expect(get(cfg, 'memory')).toBe('0x100');
    expect(get(cfg, 'maxvcpus')).toBe('4');
    expect(get(cfg, 'disk')).toEqual(['phy:/dev/vg/a,xvda,w', 'file:/b.img,xvdb,r']);
    expect(get(cfg, 'nested')).toEqual([['a', '1'], []]);
    expect(get(cfg, 'empty')).toEqual([]);
    expect(cfg.order).toEqual(['name', 'type', 'memory', 'vcpus', 'maxvcpus', 'disk', 'nested', 'empty', 'extra']);
    const disk = cfg.settings.get('disk');
    expect(disk && [disk.line, disk.source]).toEqual([6, 'vm.cfg']);
  });

  test('the last assignment wins; += appends to strings and lists', () => {
    const cfg = parseXlConfig('memory = 128\nmemory = 256\nextra = "a"\nextra += " b"\nvif = ["x"]\nvif += [ "y" ]\nnew += "z"\n');
    expect(get(cfg, 'memory')).toBe('256');
    expect(get(cfg, 'extra')).toBe('a b');
    expect(get(cfg, 'vif')).toEqual(['x', 'y']);
    expect(get(cfg, 'new')).toBe('z');
    expect(errorOf(() => parseXlConfig('vif = ["x"]\nvif += "y"\n'))).toBe('config:2: can\'t add [list] to "string" or vice versa (key vif)');
  });

  test('escapes in quoted strings', () => {
    const cfg = parseXlConfig('a = "tab\\there \\"q\\" \\\\ \\x41\\102\\n"\nb = \'it\\\'s\'\n');
    expect(get(cfg, 'a')).toBe('tab\there "q" \\ AB\n');
    expect(get(cfg, 'b')).toBe("it's");
    expect(errorOf(() => parseXlConfig('a = "bad \\q"'))).toMatch(/^config:1: .*invalid escape/);
    expect(errorOf(() => parseXlConfig('a = "bad \\xZZ"'))).toMatch(/invalid escape/);
  });

  test('no newline at the end, CR-LF line ends, a comment on the last line', () => {
    expect(get(parseXlConfig('name = "x"'), 'name')).toBe('x');
    expect(get(parseXlConfig('name = "x"\r\nmemory = 64\r\n'), 'memory')).toBe('64');
    expect(get(parseXlConfig('name = "x"\n# end'), 'name')).toBe('x');
    expect(parseXlConfig('').settings.size).toBe(0);
  });

  test('errors carry the source and line', () => {
    expect(errorOf(() => parseXlConfig('name = "x"\nName = "y"\n', 'vm.cfg'))).toBe("vm.cfg:2: config parsing error near `Name': lexical error");
    expect(errorOf(() => parseXlConfig('a = 1\n\nmemory =\n'))).toBe('config:3: config parsing error near <newline>: syntax error, expected a value');
    expect(errorOf(() => parseXlConfig('a = "open\nb = 2'))).toMatch(/^config:1: .*unterminated string/);
    expect(errorOf(() => parseXlConfig('a = [1,,2]'))).toMatch(/^config:1: config parsing error near `,': syntax error/);
    expect(errorOf(() => parseXlConfig('a = "x" "y"'))).toMatch(/near `y': syntax error/);
    expect(errorOf(() => parseXlConfig('= 5'))).toMatch(/expected a key/);
    expect(errorOf(() => parseXlConfig('a = [1,\n2,\n'))).toMatch(/^config:3: .*<end of file>/);
    expect(errorOf(() => parseXlConfig('a 5'))).toMatch(/expected = or \+=/);
    expect(errorOf(() => parseXlConfig('memory = 128M'))).toMatch(/lexical error/);
    expect(errorOf(() => parseXlConfig('kernel = os.path.join("a")'))).toMatch(/Python/);
    expect(errorOf(() => parseXlConfig(42 as unknown as string))).toMatch(/must be a string/);
  });
});

describe('numbers', () => {
  test('strtol base 0 rules', () => {
    expect(parseXlInteger('128')).toBe(128);
    expect(parseXlInteger('0x1F')).toBe(31);
    expect(parseXlInteger('010')).toBe(8);
    expect(parseXlInteger('0')).toBe(0);
    expect(parseXlInteger(' -5')).toBe(-5);
    expect(parseXlInteger('+7')).toBe(7);
    for (const bad of ['08', '12 ', '', '1e3', '0x', 'abc', '99999999999999999999']) expect(parseXlInteger(bad)).toBeNull();
  });
});

describe('command-line overrides', () => {
  test('key=value arguments apply after the file, += included', () => {
    const cfg = applyXlOverrides(parseXlConfig(minimal + 'memory = 128\nextra = "console=hvc0"\n'), ['memory=512', 'extra+=" quiet"', 'vcpus=2;maxvcpus=2']);
    const { config } = domainConfigFromXl(cfg);
    expect(config.memory).toBe(512);
    expect(config.cmdline).toBe('console=hvc0 quiet');
    expect(config.vcpus).toBe(2);
    expect(errorOf(() => applyXlOverrides(cfg, ['memory']))).toMatch(/not of the form key=value/);
    expect(errorOf(() => applyXlOverrides(cfg, ['memory=[1']))).toMatch(/^command line:1: /);
    expect(errorOf(() => domainConfigFromXl(applyXlOverrides(parseXlConfig(minimal), ['memory="lots"'])))).toMatch(/^command line:1: parameter `memory' is not a valid number/);
  });

  test('xl create arguments', () => {
    expect(splitCreateArgs(['-p', '/boot/vm.cfg', 'memory=256', 'name="b"'])).toEqual({
      file: '/boot/vm.cfg', overrides: ['memory=256', 'name="b"'], paused: true, dryRun: false, quiet: false,
    });
    expect(splitCreateArgs(['-n', '-q', '-f', 'x.cfg']).file).toBe('x.cfg');
    expect(splitCreateArgs(['memory=1']).file).toBeNull();
    expect(errorOf(() => splitCreateArgs(['a.cfg', 'b.cfg']))).toMatch(/more than one config file/);
    expect(errorOf(() => splitCreateArgs(['-z']))).toMatch(/unknown option -z/);
    expect(errorOf(() => splitCreateArgs(['-f']))).toMatch(/needs a file/);
  });
});

describe('DomainConfig', () => {
  test('xl\'s defaults for a minimal PVH guest', () => {
    expect(domainConfigFromXl(parseXlConfig(minimal))).toEqual({
      config: {
        name: 'vm1', type: 'pvh', kernel: '/boot/vmlinux', ramdisk: null, cmdline: '',
        memory: 32, maxmem: 32, vcpus: 1, maxvcpus: 1,
        onPoweroff: 'destroy', onReboot: 'restart', onWatchdog: 'destroy', onCrash: 'destroy', onSoftReset: 'soft-reset',
        weight: 256, cap: 0,
      },
      warnings: [],
    });
  });

  test('a full configuration', () => {
    const { config, warnings } = domainConfigFromXl(parseXlConfig(minimal + [
      'ramdisk = "/boot/initrd"', 'memory = "256"', 'maxmem = 512', 'vcpus = 2', 'maxvcpus = 4',
      'on_poweroff = "preserve"', 'on_reboot = "rename-restart"', 'on_crash = "coredump-restart"', 'on_watchdog="coredump-destroy"',
      'cpu_weight = 512', 'cap = 150', 'cmdline = "console=hvc0 root=/dev/xvda1"',
    ].join('\n')));
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      ramdisk: '/boot/initrd', memory: 256, maxmem: 512, vcpus: 2, maxvcpus: 4, onPoweroff: 'preserve',
      onReboot: 'rename-restart', onCrash: 'coredump-restart', onWatchdog: 'coredump-destroy', weight: 512, cap: 150,
      cmdline: 'console=hvc0 root=/dev/xvda1',
    });
  });

  test('memory and maxmem follow each other; maxmem below memory is refused', () => {
    const conf = (extra: string): { memory: number; maxmem: number } => domainConfigFromXl(parseXlConfig(minimal + extra)).config;
    expect(conf('memory = 300')).toMatchObject({ memory: 300, maxmem: 300 });
    expect(conf('maxmem = 300')).toMatchObject({ memory: 300, maxmem: 300 });
    expect(errorOf(() => conf('memory = 300\nmaxmem = 200'))).toBe('config:5: maxmem (200 MiB) must be at least memory (300 MiB)');
    expect(errorOf(() => conf('memory = 0'))).toBe("config:4: parameter `memory' is 0, must be between 1 and 1048576");
    expect(errorOf(() => conf('memory = [128]'))).toBe("config:4: parameter `memory' is a list but should be a single value");
    expect(errorOf(() => conf('memory = 128\nmemory += 5'))).toBe("config:5: can't use += with numbers for parameter `memory'");
    expect(errorOf(() => conf('memory = "12x"'))).toMatch(/not a valid number: `12x'/);
  });

  test('the command line: cmdline beats root and extra', () => {
    const line = (extra: string): { cmdline: string; warnings: string[] } => {
      const r = domainConfigFromXl(parseXlConfig(minimal + extra));
      return { cmdline: r.config.cmdline, warnings: r.warnings };
    };
    expect(line('root = "/dev/xvda1"\nextra = "console=hvc0"')).toEqual({ cmdline: 'root=/dev/xvda1 console=hvc0', warnings: [] });
    expect(line('root = "/dev/xvda1"').cmdline).toBe('root=/dev/xvda1');
    expect(line('extra = "quiet"').cmdline).toBe('quiet');
    expect(line('cmdline = "a"\nroot = "b"')).toEqual({ cmdline: 'a', warnings: ['ignoring root= and extra= in favour of cmdline='] });
  });

  test('guest types: only pvh runs; a missing type is assumed pvh with a warning', () => {
    const noType = 'name = "vm"\nkernel = "/k"\n';
    const r = domainConfigFromXl(parseXlConfig(noType));
    expect(r.config.type).toBe('pvh');
    expect(r.warnings[0]).toMatch(/xl would default to "pv".*assuming type = "pvh"/);
    expect(errorOf(() => domainConfigFromXl(parseXlConfig(noType + 'type = "hvm"')))).toBe('config:3: type "hvm" is not supported: zazen runs only PVH guests (type = "pvh")');
    expect(errorOf(() => domainConfigFromXl(parseXlConfig(noType + 'type = "pv"')))).toMatch(/"pv" is not supported/);
    expect(errorOf(() => domainConfigFromXl(parseXlConfig(noType + 'builder = "generic"')))).toMatch(/"pv" is not supported/);
    expect(errorOf(() => domainConfigFromXl(parseXlConfig(noType + 'builder = "hvm"\ntype = "pvh"')))).toMatch(/contradicting/);
    expect(errorOf(() => domainConfigFromXl(parseXlConfig(noType + 'type = "kvm"')))).toMatch(/invalid domain type "kvm"/);
  });

  test('names and kernels', () => {
    const check = (text: string): string => errorOf(() => domainConfigFromXl(parseXlConfig(text)));
    expect(check('type = "pvh"\nkernel = "/k"')).toMatch(/domain name must be specified/);
    expect(check('name = "a b"\nkernel = "/k"')).toMatch(/may only contain/);
    expect(check('name = "123"\nkernel = "/k"')).toMatch(/all digits/);
    expect(check('name = ""\nkernel = "/k"')).toMatch(/must not be empty/);
    expect(check(`name = "${'x'.repeat(65)}"\nkernel = "/k"`)).toMatch(/longer than 64/);
    expect(check('name = "-x"\nkernel = "/k"')).toMatch(/must not start with/);
    expect(check('name = "vm"\ntype = "pvh"')).toMatch(/needs a kernel/);
  });

  test('vCPUs, actions, weight and cap are bounded', () => {
    const check = (extra: string): string => errorOf(() => domainConfigFromXl(parseXlConfig(minimal + extra)));
    expect(check('vcpus = 4\nmaxvcpus = 2')).toBe('config:5: maxvcpus (2) < vcpus (4)');
    expect(check('vcpus = 0')).toMatch(/between 1 and 128/);
    expect(check('vcpus = 129')).toMatch(/between 1 and 128/);
    expect(check('on_crash = "explode"')).toBe('config:4: unknown on_crash action "explode" (one of destroy, restart, rename-restart, preserve, coredump-destroy, coredump-restart, soft-reset)');
    expect(check('cpu_weight = 70000')).toMatch(/between 1 and 65535/);
    expect(check('cap = 101')).toMatch(/between 0 and 100/);
    expect(domainConfigFromXl(parseXlConfig(minimal + 'maxvcpus = 2\ncap = 200')).config.cap).toBe(200);
  });

  test('unknown keys are ignored with a warning each', () => {
    const r = domainConfigFromXl(parseXlConfig(minimal + 'vif = [ "bridge=xenbr0" ]\ndisk = []\n', 'vm.cfg'));
    expect(r.warnings).toEqual(["vm.cfg:4: ignoring unsupported key `vif'", "vm.cfg:5: ignoring unsupported key `disk'"]);
  });
});

describe('xl.create({...})', () => {
  test('same defaults and rules as a file', () => {
    const r = configFromObject({ name: 'vm', type: 'pvh', kernel: '/boot/vmlinux', memory: 256, cmdline: 'console=hvc0', on_crash: 'preserve', ramdisk: undefined });
    expect(r.warnings).toEqual([]);
    expect(r.config).toMatchObject({ name: 'vm', memory: 256, maxmem: 256, vcpus: 1, cmdline: 'console=hvc0', onCrash: 'preserve', onReboot: 'restart', ramdisk: null });
    expect(configFromObject({ name: 'vm', kernel: '/k', memory: '0x40' }).config.memory).toBe(64);
    expect(configFromObject({ name: 'vm', type: 'pvh', kernel: '/k', vif: ['bridge=xenbr0'] }).warnings).toEqual(["xl.create: ignoring unsupported key `vif'"]);
  });

  test('bad objects give clear errors', () => {
    expect(errorOf(() => configFromObject(null))).toMatch(/expected an object/);
    expect(errorOf(() => configFromObject('vm'))).toMatch(/expected an object/);
    expect(errorOf(() => configFromObject({ name: 'vm', kernel: '/k', memory: 12.5 }))).toBe('xl.create: memory must be an integer, got 12.5');
    expect(errorOf(() => configFromObject({ name: 'vm', kernel: '/k', memory: true }))).toMatch(/must be a string, an integer or a list, got boolean/);
    expect(errorOf(() => configFromObject({ name: 'vm', kernel: '/k', onCrash: 'destroy' }))).toMatch(/`onCrash' is not an xl.cfg key/);
    expect(errorOf(() => configFromObject({ name: 'vm', kernel: '/k', memory: 300, maxmem: 200 }))).toBe('xl.create: maxmem (200 MiB) must be at least memory (300 MiB)');
    expect(errorOf(() => configFromObject({ name: 'vm', kernel: '/k', type: 'hvm' }))).toMatch(/^xl.create: type "hvm" is not supported/);
    expect(errorOf(() => configFromObject({ kernel: '/k' }))).toMatch(/name must be specified/);
  });
});
