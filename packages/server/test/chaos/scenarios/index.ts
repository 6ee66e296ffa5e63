import type { Scenario } from '../scenario.js';
import { clockSkew } from './clock-skew.js';
import { diskFull } from './disk-full.js';
import { exitAfterCommit, exitAfterCommitSQLite } from './exit-after-commit.js';
import { keyRotation } from './key-rotation.js';
import { killNode, killSQLiteNode } from './kill-node.js';
import { postgresRestart } from './postgres-restart.js';
import { redisRestart } from './redis-restart.js';

/** Every fault of the suite, in the table's order. */
export const SCENARIOS: readonly Scenario[] = [
  killNode,
  killSQLiteNode,
  exitAfterCommit,
  exitAfterCommitSQLite,
  postgresRestart,
  redisRestart,
  diskFull,
  keyRotation,
  clockSkew,
];
