// A database URL may name a database that does not exist yet (the README's example does). It is
// created when the role may: through the server's `postgres` database, CREATE DATABASE. When it
// may not, the error says so and what to run, once, instead of a bare "does not exist".
import postgres from 'postgres';

const INVALID_CATALOG_NAME = '3D000';
const DUPLICATE_DATABASE = '42P04';

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown }).code;
}

/** Creates the database `url` names if it is missing; true when this call created it. */
export async function createDatabaseIfMissing(url: string): Promise<boolean> {
  const probe = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await probe`select 1`;
    return false;
  } catch (error) {
    if (codeOf(error) !== INVALID_CATALOG_NAME) throw error;
  } finally {
    await probe.end({ timeout: 5 });
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const admin = postgres(maintenance.toString(), { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await admin`create database ${admin(name)}`;
    return true;
  } catch (error) {
    // Another server starting at the same time created it first.
    if (codeOf(error) === DUPLICATE_DATABASE) return false;
    const user = decodeURIComponent(target.username) || 'the connecting role';
    throw new Error(
      `database "${name}" does not exist and ${user} could not create it (${(error as Error).message}); ` +
        `create it first: createdb -h ${target.hostname} -p ${target.port || '5432'} ${name}`,
      { cause: error },
    );
  } finally {
    await admin.end({ timeout: 5 });
  }
}
