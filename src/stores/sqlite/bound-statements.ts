import type Database from 'better-sqlite3';

/**
 * The write path's statements, bound by position. better-sqlite3 binds a named parameter
 * (`@name`) by making a JS string of its name and looking it up on the object, for every
 * parameter of every run: for a step row's 19 parameters that costs more than SQLite's own
 * work. These statements keep their named SQL (execution-queries.ts, step-queries.ts); each
 * `@name` becomes `?`, bound in order from the same object, and a parameter missing from it is
 * refused as better-sqlite3 refuses it. Only for SQL whose `@` all mark parameters (none in a
 * literal or a comment).
 */
export class BoundStatement {
  readonly #statement: Database.Statement;
  readonly #names: string[];

  /** With `values`, rows come back as arrays of their columns (as `SqliteConnection.values`). */
  constructor(db: Database.Database, sql: string, values = false) {
    const names: string[] = [];
    this.#statement = db.prepare(
      sql.replace(/@(\w+)/g, (_, name: string) => {
        names.push(name);
        return '?';
      }),
    );
    if (values) this.#statement.raw(true);
    this.#names = names;
  }

  run(params: Record<string, unknown>): Database.RunResult {
    return this.#statement.run(this.#values(params));
  }

  get(params: Record<string, unknown>): unknown {
    return this.#statement.get(this.#values(params));
  }

  all(params: Record<string, unknown>): unknown[] {
    return this.#statement.all(this.#values(params));
  }

  #values(params: Record<string, unknown>): unknown[] {
    const names = this.#names;
    const values = new Array<unknown>(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const value = params[name];
      if (value === undefined && !(name in params)) throw new RangeError(`Missing named parameter "${name}"`);
      values[i] = value;
    }
    return values;
  }
}

/** One connection's bound statements, prepared once each, by their SQL text. */
export class BoundStatements {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, BoundStatement>();
  readonly #valueStatements = new Map<string, BoundStatement>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  of(sql: string): BoundStatement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = new BoundStatement(this.#db, sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** As `of`, its rows arrays of their columns. */
  valuesOf(sql: string): BoundStatement {
    let statement = this.#valueStatements.get(sql);
    if (!statement) {
      statement = new BoundStatement(this.#db, sql, true);
      this.#valueStatements.set(sql, statement);
    }
    return statement;
  }
}
