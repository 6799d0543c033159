// Jest transformer: compiles each TypeScript file with esbuild to CommonJS for Node.
const esbuild = require('esbuild');

module.exports = {
  process(source, filename) {
    const out = esbuild.transformSync(source, {
      loader: 'ts',
      format: 'cjs',
      target: 'es2020',
      sourcemap: 'inline',
      sourcefile: filename,
    });
    return { code: out.code };
  },
};
