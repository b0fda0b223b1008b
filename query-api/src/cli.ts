import { parseArgs } from 'node:util';
import { parseConfig } from '@flowscope/common';
import { classifyDbError, DataDirInUseError, describeDatabase, describeDbError, openDatabase, storageConfigShape, type Database } from '@flowscope/storage';
import { ROLES, createToken, listTokens, revokeToken, type Role } from './tokens.ts';

const USAGE = `usage:
  flowscope token create --name NAME [--role viewer|admin]   prints the token once
  flowscope token list                                         id, name, role, prefix, dates
  flowscope token revoke ID
Storage: DATABASE_URL, or the embedded database in FLOWSCOPE_DATA_DIR (default .data/flowscope).
Exit codes: 0 done, 1 no such token, 2 bad usage, 3 database unavailable or in use (retry later),
4 the database refused the data, 5 any other database error.`;

/** The CLI's exit codes (also in USAGE). */
export const EXIT = { ok: 0, notFound: 1, usage: 2, unavailable: 3, refused: 4, failed: 5 } as const;

/** A database failure as a message that says what to do, and its exit code. */
function explainDbError(e: unknown, where: string): { code: number; message: string } {
  if (e instanceof DataDirInUseError) {
    return {
      code: EXIT.unavailable,
      message:
        `${e.message}\nflowscope token works on the database directly: with the embedded database, stop the running ` +
        'server, run the command, then start the server again (or run flowscope on PostgreSQL with DATABASE_URL).',
    };
  }
  const detail = describeDbError(e);
  switch (classifyDbError(e)) {
    case 'unavailable':
    case 'retry':
      return { code: EXIT.unavailable, message: `${where} is unavailable (${detail}). Check that it is running and reachable, then run the command again.` };
    case 'data':
      return { code: EXIT.refused, message: `${where} refused the data (${detail}).` };
    default:
      return { code: EXIT.failed, message: `database error on ${where} (${detail}).` };
  }
}

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
    // eslint-disable-next-line no-control-regex
    if (values.name.trim() === '' || values.name.length > 200 || /[\u0000-\u001f\u007f]/.test(values.name)) {
      return (err(`--name must be 1 to 200 characters without control characters\n`), 2);
    }
    if (!ROLES.includes(values.role as Role)) return (err(`--role must be one of ${ROLES.join(', ')}\n`), 2);
  }
  const revokeId = command === 'revoke' ? Number(positionals[0]) : undefined;
  if (command === 'revoke' && !(Number.isInteger(revokeId) && revokeId! > 0)) return (err(`revoke needs a token id (see token list)\n`), 2);

  const config = parseConfig(storageConfigShape, env);
  const where = describeDatabase(config);
  let db: Database | undefined;
  try {
    db = await openDatabase(config);
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
  } catch (e) {
    const { code, message } = explainDbError(e, where);
    err(`flowscope: ${message}\n`);
    return code;
  } finally {
    await db?.close().catch(() => undefined);
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
