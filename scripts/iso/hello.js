// A sample boot module: on the ISO it is /boot/hello.js. Run it from the REPL with
//   eval(fs.readTextFile('/boot/hello.js'))
console.log(`hello from /boot/hello.js: ${fs.list('/boot').length} boot files, ${Math.round(hv.memStats().freeBytes / 1048576)} MiB free`);
