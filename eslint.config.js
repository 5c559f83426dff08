// Lint: typescript-eslint's recommended rules, type-only imports marked as such, no import
// cycles, and the folder boundaries the layout promises (the engine imports nothing from the
// edges, protocol/ nothing from the server, bench/ nothing from test/).
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'data/**', 'web/dist/**', 'db/migrations/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      // Sources import each other as `.js`, which resolves to the `.ts` file.
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.tsx', '.js'] } })],
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './server/engine',
              from: '.',
              except: ['./server/engine', './protocol', './node_modules'],
              message: 'the engine is pure: it imports only itself and protocol/',
            },
            {
              target: './protocol',
              from: ['./server', './db', './test', './bench', './bots'],
              message: 'protocol/ is shared by clients: no server imports',
            },
            { target: './server', from: ['./test', './bench'], message: 'production code does not import tests or benches' },
            { target: './bench', from: './test', message: 'benches do not import tests: what both need lives in bench/lib' },
          ],
        },
      ],
    },
  },
);
