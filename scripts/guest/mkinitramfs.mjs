#!/usr/bin/env node
// Writes the Debian guest's initramfs: a gzipped newc cpio with busybox, its applet links, device nodes and /init.
//
// Usage: node scripts/guest/mkinitramfs.mjs --busybox <bin> --applets <list> --init <script> --out <file.cpio.gz>
// <list> is `busybox --list-full` output (paths such as bin/sh, sbin/poweroff). The archive is
// reproducible: fixed inode numbers, owner root, mtime 0.
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/** Applets that must be present for /init and the tests. */
export const REQUIRED_APPLETS = ['sh', 'mount', 'uname', 'cat', 'ls', 'echo', 'poweroff', 'reboot', 'mkdir', 'init'];


/** Builds one newc entry: the 110-byte ASCII header, the name and the data, each padded to 4 bytes. */
export function newcEntry(ino, mode, name, data = new Uint8Array(0), rdev = [0, 0]) {
  const nameBytes = Buffer.from(name + '\0', 'utf8');
  const fields = [ino, mode, 0, 0, (mode & 0o170000) === S_IFDIR ? 2 : 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const header = Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join(''), 'ascii');
  const pad = (n) => Buffer.alloc((4 - (n % 4)) % 4);
  return Buffer.concat([header, nameBytes, pad(header.length + nameBytes.length), Buffer.from(data), pad(data.length)]);
}

/** Returns the archive's entries as {mode, name, data?, rdev?}, directories before their contents. */
export function initramfsEntries(busybox, appletPaths, init) {
  const dirs = ['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'root', 'run'];
  const entries = dirs.map((d) => ({ mode: S_IFDIR | (d === 'tmp' ? 0o1777 : 0o755), name: d }));
  entries.push({ mode: S_IFREG | 0o755, name: 'bin/busybox', data: busybox });
  const names = new Set();
  for (const p of appletPaths) {
    const dir = p.slice(0, p.lastIndexOf('/'));
    // linuxrc is busybox init's old initrd entry point; this archive boots through /init.
    if (p === 'bin/busybox' || p === 'linuxrc' || names.has(p)) continue;
    if (!dirs.includes(dir)) throw new Error(`applet path ${p} lies outside ${dirs.join(', ')}`);
    names.add(p);
    entries.push({ mode: S_IFLNK | 0o777, name: p, data: Buffer.from('/bin/busybox') });
  }
  const base = new Set([...names].map((p) => p.slice(p.lastIndexOf('/') + 1)));
  const missing = REQUIRED_APPLETS.filter((a) => !base.has(a));
  if (missing.length) throw new Error(`busybox lacks required applets: ${missing.join(', ')}`);
  // The kernel opens /dev/console for init before devtmpfs exists, so it must be in the archive;
  // hvc0 (major 229, minor 0: drivers/tty/hvc) is there for shells started before devtmpfs.
  entries.push({ mode: S_IFCHR | 0o600, name: 'dev/console', rdev: [5, 1] });
  entries.push({ mode: S_IFCHR | 0o620, name: 'dev/hvc0', rdev: [229, 0] });
  entries.push({ mode: S_IFCHR | 0o666, name: 'dev/null', rdev: [1, 3] });
  entries.push({ mode: S_IFREG | 0o755, name: 'init', data: init });
  return entries;
}

/** Serialises entries into a newc archive ending with the TRAILER!!! record. */
export function newcArchive(entries) {
  const parts = entries.map((e, i) => newcEntry(i + 1, e.mode, e.name, e.data, e.rdev));
  parts.push(newcEntry(0, 0, 'TRAILER!!!'));
  return Buffer.concat(parts);
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['busybox', 'applets', 'init', 'out'].includes(key) || argv[i + 1] === undefined) {
      throw new Error(`bad argument ${argv[i]}`);
    }
    opts[key] = argv[i + 1];
  }
  for (const k of ['busybox', 'applets', 'init', 'out']) if (!opts[k]) throw new Error(`missing --${k}`);
  return opts;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const applets = readFileSync(opts.applets, 'utf8').split('\n').map((l) => l.trim().replace(/^\/+/, '')).filter(Boolean);
    const entries = initramfsEntries(readFileSync(opts.busybox), applets, readFileSync(opts.init));
    const cpio = newcArchive(entries);
    const gz = gzipSync(cpio, { level: 9 });
    writeFileSync(opts.out, gz);
    console.error(`mkinitramfs: ${entries.length} entries, ${cpio.length} B cpio, ${gz.length} B gzipped`);
  } catch (e) {
    console.error(`mkinitramfs: ${e.message}`);
    process.exit(1);
  }
}
