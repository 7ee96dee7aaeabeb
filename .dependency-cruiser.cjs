/**
 * The server's layers, checked in `npm test` (scripts/test.sh → npm run lint:layers).
 * README's "Architecture" section draws the same picture; change both together.
 *
 * From the top (a layer may import only the layers below it, and within a
 * layer only in the directions listed):
 *
 *   composition   server/*.ts (SfuServer, services, main), server/tools/
 *   edge          http, signaling
 *   observers     metrics, audit
 *   domain        rooms, recording, ingest, cluster   (recording, ingest → rooms; cluster → rooms, recording)
 *   base          media, auth
 *   ground        protocol, config, integrity, network, logger, context   (config → network, logger → context)
 *   shared data   worker-config/ (codecs, profiles; imports nothing of the server)
 *
 * The contract (server/protocol) imports nothing of the server; the SDK
 * imports the server only through it (types) and worker-config's profiles.
 */
const LAYERS = [
	{ name: 'ground', folders: ['protocol', 'config', 'integrity', 'network', 'logger', 'context'] },
	{ name: 'base', folders: ['media', 'auth'] },
	{ name: 'domain', folders: ['rooms', 'recording', 'ingest', 'cluster'] },
	{ name: 'observers', folders: ['metrics', 'audit'] },
	{ name: 'edge', folders: ['http', 'signaling'] },
];

/** Imports allowed between folders of the same layer (from → to). Everything else within a layer is forbidden. */
const WITHIN_LAYER = {
	config: ['network'],
	logger: ['context'],
	recording: ['rooms'],
	ingest: ['rooms'],
	// The cluster implements the ports rooms/ and recording/ define for crossing nodes.
	cluster: ['rooms', 'recording'],
};

const folder = (name) => `^server/${name}/`;
const anyOf = (names) => `^server/(${names.join('|')})/`;

const upward = LAYERS.slice(0, -1).map((layer, index) => ({
	name: `no-upward-from-${layer.name}`,
	comment: `${layer.name} (${layer.folders.join(', ')}) must not import a layer above it, nor the composition root`,
	severity: 'error',
	from: { path: anyOf(layer.folders) },
	to: { path: [anyOf(LAYERS.slice(index + 1).flatMap((l) => l.folders)), '^server/[^/]+\\.ts$', '^server/tools/'] },
}));
upward.push({
	name: 'no-upward-from-edge',
	comment: 'http and signaling must not import the composition root',
	severity: 'error',
	from: { path: anyOf(LAYERS.at(-1).folders) },
	to: { path: ['^server/[^/]+\\.ts$', '^server/tools/'] },
});

const sideways = LAYERS.flatMap((layer) =>
	layer.folders.map((from) => {
		const others = layer.folders.filter((to) => to !== from && !(WITHIN_LAYER[from] ?? []).includes(to));
		return {
			name: `no-sideways-from-${from}`,
			comment: `${from} may import within its layer (${layer.name}) only: ${(WITHIN_LAYER[from] ?? []).join(', ') || 'nothing'}`,
			severity: 'error',
			from: { path: folder(from) },
			to: { path: anyOf(others) },
		};
	}),
);

module.exports = {
	forbidden: [
		...upward,
		...sideways,
		{
			name: 'protocol-imports-nothing-of-the-server',
			comment: 'the contract is shared with the SDK: it may import only itself (and zod)',
			severity: 'error',
			from: { path: '^server/protocol/' },
			to: { path: '^(server|worker-config|client-sdk)/', pathNot: '^server/protocol/' },
		},
		{
			name: 'through-the-public-surface',
			comment: "another folder's modules are reached through its index.ts",
			severity: 'error',
			from: { path: '^server/([^/]+)/' },
			to: { path: '^server/[^/]+/', pathNot: ['^server/$1/', '^server/[^/]+/index\\.ts$'] },
		},
		{
			name: 'no-folder-cycles',
			comment: 'no cycle may run through two or more server folders',
			severity: 'error',
			from: { path: '^server/([^/]+)/' },
			to: { circular: true, viaSomeNot: '^server/$1/' },
		},
		{
			name: 'worker-config-is-data',
			comment: 'worker-config holds codecs, settings and profiles; it imports nothing of the server, the SDK or the tests',
			severity: 'error',
			from: { path: '^worker-config/' },
			to: { path: '^(server|client-sdk|test|load-tests)/' },
		},
		{
			name: 'sdk-reaches-the-server-through-the-protocol-only',
			comment: 'the browser SDK imports the protocol (types) and the media profiles, nothing else of the repository',
			severity: 'error',
			from: { path: '^client-sdk/src/' },
			to: { path: '^(server|worker-config|test|load-tests)/', pathNot: ['^server/protocol/', '^worker-config/profiles\\.ts$'] },
		},
		{
			name: 'server-does-not-import-tests',
			severity: 'error',
			from: { path: '^(server|worker-config|client-sdk)/' },
			to: { path: '^(test|load-tests)/' },
		},
	],
	options: {
		doNotFollow: { path: 'node_modules' },
		exclude: { path: ['^node_modules', '^dist/', '^client-sdk/dist/'] },
		tsConfig: { fileName: 'tsconfig.json' },
		// Type-only imports count: a type pulled upward is a design dependency too.
		tsPreCompilationDeps: true,
		enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json'] },
		moduleSystems: ['es6', 'cjs'],
	},
};
