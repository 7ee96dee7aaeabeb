// Lint, run by `npm test`: ESLint's recommended rules and typescript-eslint's
// type-aware ones (the project's tsconfigs give every file its types).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
	{ ignores: ['node_modules/', 'dist/', 'client-sdk/dist/', 'load-tests/results/', '.test-output/', 'data/'] },
	{
		files: ['**/*.ts'],
		extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
		languageOptions: {
			parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
		},
		linterOptions: { reportUnusedDisableDirectives: 'error' },
		rules: {
			// Methods implementing a promise-returning interface (RoomControl, NodeRegistry,
			// the signaling handler table) are async whether or not they await.
			'@typescript-eslint/require-await': 'off',
			// `_name` marks a binding kept on purpose (a destructured field dropped, an unused parameter).
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
		},
	},
	{
		// chai's property assertions (`expect(x).to.be.true`) are expressions.
		files: ['test/**/*.ts'],
		rules: { '@typescript-eslint/no-unused-expressions': 'off' },
	},
	{
		files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
		extends: [js.configs.recommended],
		languageOptions: { globals: { ...globals.node } },
	},
	{
		files: ['client-sdk/demo/**/*.js'],
		languageOptions: { sourceType: 'module', globals: { ...globals.browser } },
	},
);
