// scripts/iso/debian.cfg goes through xl's own config parser into the domain the issue asks for.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'fs';
import path from 'path';
import { domainConfigFromXl, parseXlConfig } from '../../src/toolstack/xlConfig';

const file = path.resolve(__dirname, '..', '..', 'scripts/iso/debian.cfg');

describe('debian.cfg', () => {
  test('parses without warnings into the Debian PVH domain', () => {
    const { config, warnings } = domainConfigFromXl(parseXlConfig(readFileSync(file, 'utf8'), 'debian.cfg'));
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      name: 'debian',
      type: 'pvh',
      kernel: '/boot/vmlinux',
      ramdisk: '/boot/initramfs.cpio.gz',
      memory: 256,
      vcpus: 1,
    });
    const args = config.cmdline.split(' ');
    expect(args).toEqual(expect.arrayContaining(['console=hvc0', 'earlyprintk=xen', 'xen.fifo_events=0']));
  });
});
