// Lint for the TypeScript sources (the editor's code for the browser among them), tests and
// benchmarks, and the plain-JS scripts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['build/', 'node_modules/', 'ci/node-red-5/node_modules/', '.node-red-home/', 'resources/', 'nodes/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      // Node-RED node constructors keep `this` as `node` for the handlers they register.
      '@typescript-eslint/no-this-alias': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The editor's code runs in the browser, beside Node-RED's editor (src/editor/node-red-editor.d.ts).
    files: ['src/editor/**/*.ts'],
    languageOptions: {
      globals: { window: 'readonly', document: 'readonly', RED: 'readonly', $: 'readonly' },
    },
  },
  {
    files: ['scripts/**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        __filename: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // StrykerJS's sandboxes and reports (npm run mutate).
  { ignores: ['.stryker-tmp/', 'reports/'] },
);
