import { parseArgs } from 'node:util';
import { parseConfig } from '@flowscope/common';
import { openDatabase, storageConfigShape } from '@flowscope/storage';
import { ROLES, createToken, listTokens, revokeToken, type Role } from './tokens.ts';

const USAGE = `usage:
  flowscope token create --name NAME [--role viewer|admin]   prints the token once
  flowscope token list                                         id, name, role, prefix, dates
  flowscope token revoke ID
Storage: DATABASE_URL, or the embedded database in FLOWSCOPE_DATA_DIR (default .data/flowscope).`;

/** Runs the CLI; returns the exit code. Output goes through `out`/`err` so tests can read it. */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group !== 'token' || !command || !['create', 'list', 'revoke'].includes(command)) {
    err(`${USAGE}\n`);
    return 2;
  }
  let values: { name?: string | undefined; role?: string | undefined; json?: boolean | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: { name: { type: 'string' }, role: { type: 'string', default: 'viewer' }, json: { type: 'boolean' } },
      allowPositionals: true,
    }));
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (command === 'create') {
    if (!values.name) return (err(`--name is required\n${USAGE}\n`), 2);
    if (!ROLES.includes(values.role as Role)) return (err(`--role must be one of ${ROLES.join(', ')}\n`), 2);
  }
  const revokeId = command === 'revoke' ? Number(positionals[0]) : undefined;
  if (command === 'revoke' && !(Number.isInteger(revokeId) && revokeId! > 0)) return (err(`revoke needs a token id (see token list)\n`), 2);

  const config = parseConfig(storageConfigShape, env);
  const db = await openDatabase(config);
  try {
    if (command === 'create') {
      const { token, info } = await createToken(db, { name: values.name!, role: values.role as Role });
      if (values.json) out(`${JSON.stringify({ ...info, token })}\n`);
      else out(`created token ${info.id} "${info.name}" (${info.role}). It is shown only this once:\n${token}\n`);
      return 0;
    }
    if (command === 'list') {
      const tokens = await listTokens(db);
      if (values.json) out(`${JSON.stringify(tokens)}\n`);
      else {
        out('id\tname\trole\tprefix\tcreated\tlast used\trevoked\n');
        for (const t of tokens) out(`${t.id}\t${t.name}\t${t.role}\t${t.prefix}…\t${t.created_at}\t${t.last_used_at ?? '-'}\t${t.revoked_at ?? '-'}\n`);
      }
      return 0;
    }
    const ok = await revokeToken(db, revokeId!);
    if (!ok) return (err(`no active token with id ${revokeId}\n`), 1);
    out(`revoked token ${revokeId}\n`);
    return 0;
  } finally {
    await db.close();
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  runCli(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
