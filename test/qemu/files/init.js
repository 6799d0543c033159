// Boot module for the -kernel boot test: proves /boot/init.js runs at boot.
globalThis.initRan = 'yes';
console.log('init.js ran with ' + fs.list('/boot').length + ' boot files');
