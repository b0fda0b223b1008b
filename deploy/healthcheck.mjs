// The images' HEALTHCHECK: GET http://127.0.0.1:<port>/health, exit 0 on 200, 1 otherwise
// (refused, another status). Docker's HEALTHCHECK --timeout bounds how long it may take.
// Usage: node deploy/healthcheck.mjs <name of the port's environment variable> <default port>
/* global fetch */
import process from 'node:process';

const [portVariable, defaultPort] = process.argv.slice(2);
const port = (portVariable && process.env[portVariable]) || defaultPort;
if (!port || !/^\d+$/.test(port)) {
  process.stderr.write('usage: node deploy/healthcheck.mjs PORT_VARIABLE DEFAULT_PORT\n');
  process.exit(2);
}
fetch(`http://127.0.0.1:${port}/health`).then(
  (res) => process.exit(res.status === 200 ? 0 : 1),
  (err) => {
    process.stderr.write(`health check failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
