/**
 * The simulator's two profiles, side by side. `contract` answers as the written contract
 * (docs/mcm-api.md) says; `field` as real runtimes were recorded or seen answering (its "Field
 * evidence" section, issue 11). The handlers consult these rules and never test a profile's name.
 */

export const PROFILE_NAMES = ['contract', 'field'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** The environment variable that names the profile of a simulator started without one (CLI and library). */
export const PROFILE_VARIABLE = 'MCM_SIMULATOR_PROFILE';

export function isProfileName(value: unknown): value is ProfileName {
  return typeof value === 'string' && (PROFILE_NAMES as readonly string[]).includes(value);
}

/** The profile of a simulator started without one: MCM_SIMULATOR_PROFILE, else `contract`. */
export function profileFromEnvironment(env: NodeJS.ProcessEnv = process.env): ProfileName {
  const value = env[PROFILE_VARIABLE];
  if (value === undefined || value === '') return 'contract';
  if (!isProfileName(value)) throw new Error(`${PROFILE_VARIABLE} is one of ${PROFILE_NAMES.join(', ')} (got ${JSON.stringify(value)})`);
  return value;
}

/** An error answer: sent in the `{"error": {"code", "message"}}` shape (both profiles). */
export interface ErrorAnswer {
  status: number;
  message: string;
}

/** Why a request's token was not accepted. */
export type Refusal = 'missing' | 'wrong' | 'expired';

export interface ProfileRules {
  /** The answer to a missing (or not Bearer), wrong or expired token. */
  refuse(why: Refusal): ErrorAnswer;
  /**
   * A path where no route is mounted: a JSON 404 once the key is checked (`json-404`), or
   * a 503 with an empty body before any key check (`empty-503`, as a real runtime's dispatcher does).
   */
  unmountedPath: 'json-404' | 'empty-503';
  /** Whether GET .../dataStore follows an operation (without it the path answers 405). */
  dataStoreFollowUp: boolean;
  /** Upload, deploy and composition answer `status` with the created object(s), or with an empty body. */
  createAnswer: { status: number; withBody: boolean };
  unknownImage(name: string): ErrorAnswer;
  /** A mim name already deployed, or (`inBody`) given twice in one composition. */
  duplicateMim(id: string, name: string, inBody: boolean): ErrorAnswer;
  /** An upload sent chunked (no Content-Length): accepted, or refused with this answer. */
  chunkedUpload?: ErrorAnswer;
  /**
   * `Expect: 100-continue` (never acknowledged with 100): `any-route-417` refuses it on every route
   * before anything else; `upload-no-image` lets the upload route answer 400 "no image received".
   */
  expectContinue: 'any-route-417' | 'upload-no-image';
  /** Whether DELETE /images/{x} also takes a bare image name (else: ids only). */
  imageDeleteByName: boolean;
  /** `created` of mims and images on the wire, from the stored ISO date. */
  created(iso: string): string | number;
  /** `env` of mims on the wire. */
  env(env: Record<string, string>): Record<string, string> | string[];
}

export const PROFILES: Record<ProfileName, ProfileRules> = {
  contract: {
    refuse: (why) => ({
      status: 403,
      message:
        why === 'missing'
          ? 'missing API key: send "Authorization: Bearer <MCM API key>"'
          : why === 'expired'
            ? 'the token has expired (the MCM API key is MCM_API_KEY in mimoe-api-key.env)'
            : 'the API key or token is not valid (the MCM API key is MCM_API_KEY in mimoe-api-key.env)',
    }),
    unmountedPath: 'json-404',
    dataStoreFollowUp: true,
    createAnswer: { status: 201, withBody: true },
    unknownImage: (name) => ({ status: 404, message: `image "${name}" not found; upload it first` }),
    duplicateMim: (id, name, inBody) =>
      inBody
        ? { status: 409, message: `the name "${name}" appears twice in the composition` }
        : { status: 409, message: `mim "${id}" already exists` },
    chunkedUpload: undefined,
    expectContinue: 'any-route-417',
    imageDeleteByName: true,
    created: (iso) => iso,
    env: (env) => ({ ...env }),
  },
  field: {
    // Recorded: a wrong key is 403 Forbidden, a missing or expired one 401 Unauthorized.
    refuse: (why) => (why === 'wrong' ? { status: 403, message: 'Forbidden' } : { status: 401, message: 'Unauthorized' }),
    unmountedPath: 'empty-503',
    dataStoreFollowUp: false,
    // Success codes and bodies of creates are unknown; scripts only check < 300.
    createAnswer: { status: 200, withBody: false },
    unknownImage: (name) => ({ status: 400, message: `cannot find image with name ${name}` }),
    duplicateMim: (_id, name) => ({ status: 400, message: `mim with name ${name} already exists` }),
    chunkedUpload: { status: 411, message: 'Length Required' },
    expectContinue: 'upload-no-image',
    imageDeleteByName: false,
    created: (iso) => Math.floor(Date.parse(iso) / 1000),
    // The legacy /containers swagger's form.
    env: (env) => Object.entries(env).map(([key, value]) => `${key}=${value}`),
  },
};
