#!/usr/bin/env node
// Launcher for the sluice CLI. Plain JavaScript with no static imports and no
// recent syntax, so that any Node.js that can load an .mjs file gets as far as
// the version check and prints a useful message instead of a syntax error.

var MIN_MAJOR = 22;
var MIN_MINOR = 12;
// Set in the re-spawned child, so a Node that can't strip types never loops.
var CHILD_MARKER = 'SLUICE_STRIP_TYPES_CHILD';

var parts = process.versions.node.split('.').map(Number);
var major = parts[0];
var minor = parts[1];

if (major < MIN_MAJOR || (major === MIN_MAJOR && minor < MIN_MINOR)) {
  process.stderr.write(
    'sluice needs Node.js >= ' + MIN_MAJOR + '.' + MIN_MINOR + ' (found ' + process.version + '); ' +
      'run it through npm (npm start / npm run sluice -- ...), which uses the Node 24 the project pins, ' +
      'or install Node ' + MIN_MAJOR + '.' + MIN_MINOR + '+\n'
  );
  process.exit(1);
} else if (!process.features.typescript && !process.env[CHILD_MARKER]) {
  // Node 22.12-22.17 can run the TypeScript sources, but only behind a flag.
  respawnWithTypeStripping();
} else {
  enableCompileCache().then(function () {
    return import('../src/bundles.mjs');
  }).then(function (bundles) {
    // build/cli/ while it matches the sources (src/bundles.mjs), else the sources.
    var bundle = bundles.freshBundle('cli');
    return import(bundle ? bundle.href : '../src/cli.ts');
  }).catch(function (error) {
    process.stderr.write('sluice: ' + (error && error.message ? error.message : String(error)) + '\n');
    process.exit(1);
  });
}

function respawnWithTypeStripping() {
  Promise.all([import('node:child_process'), import('node:url')]).then(function (modules) {
    var spawn = modules[0].spawn;
    var self = modules[1].fileURLToPath(import.meta.url);
    var env = Object.assign({}, process.env);
    env[CHILD_MARKER] = '1';
    var child = spawn(
      process.execPath,
      ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', self].concat(process.argv.slice(2)),
      { stdio: 'inherit', env: env }
    );
    var signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
    var forward = function (signal) {
      child.kill(signal);
    };
    signals.forEach(function (signal) {
      process.on(signal, forward);
    });
    child.on('exit', function (code, signal) {
      signals.forEach(function (s) {
        process.removeListener(s, forward);
      });
      // Die the same way the child did, so callers see the real signal.
      if (signal) process.kill(process.pid, signal);
      else process.exit(code === null ? 1 : code);
    });
    child.on('error', function (error) {
      process.stderr.write('sluice: cannot start ' + process.execPath + ': ' + error.message + '\n');
      process.exit(1);
    });
  });
}

// Node's compile cache keeps the compiled (and type-stripped) sources on disk between runs:
// start-up roughly halves, which matters most for worker threads, which load everything again.
// The environment variable makes worker threads and re-spawned children use it too. A user's
// own NODE_COMPILE_CACHE (or NODE_DISABLE_COMPILE_CACHE) wins.
function enableCompileCache() {
  return import('node:module').then(function (module) {
    if (typeof module.enableCompileCache !== 'function' || process.env.NODE_DISABLE_COMPILE_CACHE) return;
    var result = module.enableCompileCache(process.env.NODE_COMPILE_CACHE);
    if (result && result.directory && !process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = result.directory;
  }).catch(function () {
    // A cache that cannot be written only costs start-up time.
  });
}
