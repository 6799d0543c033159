// Runs at boot (/boot/init.js): creates the demo domain "hello" and the Debian guest, and says how to reach them.
// The REPL's prompt waits for the promise this script ends with (hello's run); Debian boots on behind the prompt.
(async () => {
  const caps = hv.shim.virtCaps();
  if (!caps.usable) {
    console.log(`demo: no guest today (${caps.reason})`);
    return;
  }
  // Both domains are created here, before the first await: a domain created later from a
  // timer or promise callback only starts running at the next console input (a run-loop issue).
  let id;
  try {
    id = xl.create('hello.cfg');
  } catch (err) {
    console.log(`demo: cannot create the hello domain: ${err.message}`);
    return;
  }
  // The Debian guest needs /etc/xen/debian.cfg and its kernel on the ISO (scripts/iso/modules.list).
  // "quiet" cuts its boot log (echoed here as "(d2) ...") to a few lines; dmesg in its shell shows it all.
  let debian = null;
  if (fs.exists('/etc/xen/debian.cfg')) {
    try {
      xl.run('create -q /etc/xen/debian.cfg \'cmdline+=" quiet"\'');
      debian = xl.list('debian')[0].id;
    } catch (err) {
      console.log(`demo: cannot create the debian domain: ${err.message}`);
    }
  }
  // Wait (at most 10 s) until the hello guest has said hello and powered off.
  for (let waited = 0; waited < 10000; waited += 20) {
    const row = xl.list().find((d) => d.id === id);
    if (!row || row.state[3] === 's') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  console.log('demo: domain "hello" ran the firmware hello guest. Look at it with:');
  console.log('  xl list              # its state: ---s-- (shut down, kept by on_poweroff = "preserve")');
  console.log('  xl console hello     # what it printed (Ctrl-] returns to the REPL)');
  console.log('  xl destroy hello     # frees its memory; xl create hello.cfg runs it again');
  if (debian === null) return;
  console.log('demo: domain "debian" is booting Debian 12\'s stock kernel; a line here says when its shell is up.');
  // Not awaited: the prompt comes now, and this reports once the guest's /init has run and
  // its console has been quiet for a second (the shell's banner follows the ready line).
  (async () => {
    let seen = -1;
    let quietMs = 0;
    for (let waited = 0; waited < 600000; waited += 250) {
      const d = hv.hypervisor.guest(debian);
      if (!d) return;
      const text = d.console.text();
      quietMs = text.length === seen ? quietMs + 250 : 0;
      seen = text.length;
      if (text.includes('ZAZEN-GUEST-READY') && quietMs >= 1000) {
        console.log([
          'demo: domain "debian" runs a busybox shell on its console (hvc0):',
          '  xl console debian    # type commands there (uname -a, cat /sys/hypervisor/type); Ctrl-] returns',
          '  xl shutdown debian   # powers it off; xl create /etc/xen/debian.cfg starts it again',
        ].join('\n'));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
})();
