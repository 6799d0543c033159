// Runs at boot (/boot/init.js): creates the demo domain from /boot/hello.cfg and says how to look at it.
// The REPL's prompt waits for the promise this script ends with, so the guest's output comes first.
(async () => {
  const caps = hv.shim.virtCaps();
  if (!caps.usable) {
    console.log(`demo: no guest today (${caps.reason})`);
    return;
  }
  let id;
  try {
    id = xl.create('hello.cfg');
  } catch (err) {
    console.log(`demo: cannot create the hello domain: ${err.message}`);
    return;
  }
  // Wait (at most 10 s) until the guest has said hello and powered off.
  for (let waited = 0; waited < 10000; waited += 20) {
    const row = xl.list().find((d) => d.id === id);
    if (!row || row.state[3] === 's') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  console.log('demo: domain "hello" ran the firmware hello guest. Look at it with:');
  console.log('  xl list              # its state: ---s-- (shut down, kept by on_poweroff = "preserve")');
  console.log('  xl console hello     # what it printed (Ctrl-] returns to the REPL)');
  console.log('  xl destroy hello     # frees its memory; xl create hello.cfg runs it again');
})();
