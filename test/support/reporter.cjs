// Mocha's spec reporter, plus a JSON summary written to $MOCHA_STATS_FILE so
// scripts/test.sh can add mocha's counts to the C++ suite's in one closing line.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');

class SpecWithStats extends Mocha.reporters.Spec {
	constructor(runner, options) {
		super(runner, options);
		runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
			const file = process.env.MOCHA_STATS_FILE;
			if (!file) return;
			const { passes, failures, pending } = this.stats;
			fs.writeFileSync(file, JSON.stringify({ passed: passes, failed: failures, skipped: pending }));
		});
	}
}

module.exports = SpecWithStats;
