import { StatusError } from '../../api/errors.ts';

/**
 * A failed plugin call. `code` is the plugin's CNI error code (1 incompatible version,
 * 2 unsupported field, 3 unknown container, 4 invalid env, 5 I/O, 6 decode, 7 invalid config,
 * 11 try again later; 100+ plugin specific), or 0 when the plugin gave no error object
 * (crashed, timed out, or printed garbage).
 */
export class CniError extends StatusError {
  readonly cniCode: number;
  readonly plugin: string;
  readonly command: string;
  readonly cniDetails?: string;

  constructor(
    init: { plugin: string; command: string; code: number; msg: string; details?: string },
    options?: { cause?: unknown },
  ) {
    const detail = init.details ? ` (${init.details})` : '';
    const code = init.code ? ` [code ${init.code}]` : '';
    super(
      'InternalError',
      `CNI plugin ${init.plugin} ${init.command} failed${code}: ${init.msg}${detail}`,
      undefined,
      options,
    );
    this.name = 'CniError';
    this.cniCode = init.code;
    this.plugin = init.plugin;
    this.command = init.command;
    this.cniDetails = init.details;
  }
}
