/**
 * Prints the opaque reference of a room id, as logs (`roomId`) and per-room
 * metrics (`room` label) show it: `npm run room-ref -- <roomId>`. Takes the
 * key (log.idKey / LOG_ID_KEY) from the same configuration as the server.
 */
import { loadConfig } from '../config/index.js';
import { roomRef } from '../logger/index.js';

const roomId = process.argv[2];
if (!roomId) {
	process.stderr.write('usage: npm run room-ref -- <roomId>\n');
	process.exit(2);
}
// Only the logging settings matter here; demo mode spares asking for a JWT secret.
const config = loadConfig({ ...process.env, DEMO: '1' });
process.stdout.write(`${roomRef(roomId, config.log.idKey)}\n`);
