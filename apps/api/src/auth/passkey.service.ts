import { AuditService } from '@app/audit';
import { OneTimeTokenService, type UserPrincipal } from '@app/auth';
import { isUniqueViolation, newId, ProblemException, ValidationProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import { Passkey, TenantTransaction, User } from '@app/database';
import { HttpStatus, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type * as WebAuthn from '@simplewebauthn/server';
import type {
  AuthenticatorTransport,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { SingleUseStore } from '../common/single-use-store';
import { AuthService, INVALID_CREDENTIALS } from './auth.service';
import type { AuthenticationCredentialDto, PasskeyDto, RegisterPasskeyDto, StepUpStatusDto } from './dto/passkey.dto';
import type { TokenResponseDto } from './dto/token-response.dto';
import { LockoutService } from './lockout.service';
import { MfaService } from './mfa.service';
import { StepUpService } from './step-up.service';

/** A person keeps at most this many passkeys (a bound on the options and on the table). */
export const MAX_PASSKEYS_PER_USER = 20;
/** ES256, Ed25519, RS256: what platform authenticators and security keys use. */
const ALGORITHMS = [-7, -8, -257];

let webAuthn: Promise<typeof WebAuthn> | undefined;
/**
 * @simplewebauthn/server with its ASN.1 and COSE stack is about 250 modules: loaded on the first
 * passkey call, not by every process that starts the api.
 */
const loadWebAuthn = () => (webAuthn ??= import('@simplewebauthn/server'));

type Purpose = 'register' | 'login' | 'mfa' | 'step-up';

/** What a challenge was issued for; the challenge itself is the key. */
interface PendingChallenge {
  purpose: Purpose;
  userId?: string;
  sessionId?: string;
}

/** Issued WebAuthn challenges: single use (GETDEL), WEBAUTHN_CHALLENGE_TTL, shared by replicas through Redis. */
@Injectable()
export class WebAuthnChallenges extends SingleUseStore {
  constructor(config: AppConfig) {
    super(config, 'webauthn');
  }
}

type Assertion =
  { ok: true; user: User; passkey: Passkey } | { ok: false; reason: string; userId?: string; detail?: string };

/** The user handle a passkey stores for its account: the user id's text (no personal data in it). */
function userHandle(userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url');
}

function challengeOf(clientDataJSON: string): string | undefined {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof data.challenge === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(data.challenge)
      ? data.challenge
      : undefined;
  } catch {
    return undefined;
  }
}

function toDto(passkey: Passkey): PasskeyDto {
  return {
    id: passkey.id,
    name: passkey.name,
    deviceType: passkey.deviceType,
    backedUp: passkey.backedUp,
    transports: passkey.transports,
    aaguid: passkey.aaguid,
    createdAt: passkey.createdAt,
    lastUsedAt: passkey.lastUsedAt,
  };
}

/**
 * Passkeys (WebAuthn): registration after a step-up, sign-in with a passkey alone (discoverable
 * credential, user verification required), a passkey as the second factor after the password or a
 * provider, and a passkey as step-up proof. Each challenge is single use and bound to its purpose,
 * and for a signed-in person to the account and session it was issued to. The signature counter
 * may only rise (or stay at 0 for authenticators that keep none): a counter that goes backwards
 * means a cloned authenticator, and is refused and audited.
 */
@Injectable()
export class PasskeyService {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly challenges: WebAuthnChallenges,
    private readonly oneTimeTokens: OneTimeTokenService,
    private readonly auth: AuthService,
    private readonly lockout: LockoutService,
    private readonly stepUp: StepUpService,
    private readonly audit: AuditService,
    private readonly mfa: MfaService,
  ) {}

  private get rp() {
    return this.config.auth.webauthn;
  }

  async list(userId: string): Promise<PasskeyDto[]> {
    return (await this.passkeysOf(userId)).map(toDto);
  }

  async registrationOptions(principal: UserPrincipal): Promise<PublicKeyCredentialCreationOptionsJSON> {
    await this.stepUp.assertRecent(principal, 'auth.passkey.register');
    const user = await this.loadUser(principal.userId);
    const existing = await this.passkeysOf(user.id);
    if (existing.length >= MAX_PASSKEYS_PER_USER) {
      throw new ProblemException({
        status: HttpStatus.CONFLICT,
        slug: 'too-many-passkeys',
        title: 'Conflict',
        detail: `An account keeps at most ${MAX_PASSKEYS_PER_USER} passkeys; delete one first.`,
      });
    }
    const { generateRegistrationOptions } = await loadWebAuthn();
    const options = await generateRegistrationOptions({
      rpName: this.rp.rpName,
      rpID: this.rp.rpId,
      userName: user.email,
      userID: Buffer.from(user.id, 'utf8'),
      userDisplayName: user.fullName ?? user.email,
      timeout: this.rp.challengeTtl * 1000,
      attestationType: 'none',
      excludeCredentials: existing.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports as AuthenticatorTransport[],
      })),
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
      supportedAlgorithmIDs: ALGORITHMS,
    });
    await this.remember(options.challenge, {
      purpose: 'register',
      userId: user.id,
      sessionId: principal.sessionId,
    });
    return options;
  }

  async register(principal: UserPrincipal, dto: RegisterPasskeyDto): Promise<PasskeyDto> {
    await this.stepUp.assertRecent(principal, 'auth.passkey.register');
    const refuse = async (message: string, reason: string): Promise<never> => {
      await this.audit.record({
        action: 'auth.passkey.register',
        outcome: 'failure',
        actorId: principal.userId,
        targetType: 'user',
        targetId: principal.userId,
        metadata: { reason },
      });
      throw new ValidationProblemException([{ field: 'credential', message }], 'The passkey was not registered.');
    };
    const pending = await this.takeChallenge(dto.credential);
    if (pending?.purpose !== 'register' || pending.userId !== principal.userId) {
      return refuse('credential answers a challenge that is unknown, used, expired or not this one', 'challenge');
    }
    const { verifyRegistrationResponse } = await loadWebAuthn();
    let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verification = await verifyRegistrationResponse({
        response: dto.credential,
        expectedChallenge: pending.challenge,
        expectedOrigin: this.rp.origins,
        expectedRPID: this.rp.rpId,
        requireUserVerification: true,
        supportedAlgorithmIDs: ALGORITHMS,
      });
    } catch (error) {
      return refuse(`credential was refused: ${error instanceof Error ? error.message : 'not valid'}`, 'invalid');
    }
    if (!verification.verified) return refuse('credential was refused', 'not_verified');
    const { credential, credentialDeviceType, credentialBackedUp, aaguid } = verification.registrationInfo;
    const passkey = await this.transactions
      .runAsSystem(async (manager) => {
        const count = await manager.countBy(Passkey, { userId: principal.userId });
        if (count >= MAX_PASSKEYS_PER_USER) return 'full' as const;
        const row = manager.create(Passkey, {
          id: newId(),
          userId: principal.userId,
          credentialId: credential.id,
          publicKey: Buffer.from(credential.publicKey),
          counter: String(credential.counter),
          transports: credential.transports ?? dto.credential.response.transports ?? [],
          deviceType: credentialDeviceType,
          backedUp: credentialBackedUp,
          aaguid,
          name: dto.name?.trim() || 'Passkey',
          lastUsedAt: null,
        });
        await manager.insert(Passkey, row);
        await this.audit.record(
          {
            action: 'auth.passkey.register',
            outcome: 'success',
            actorId: principal.userId,
            targetType: 'user',
            targetId: principal.userId,
            metadata: { passkeyId: row.id, deviceType: credentialDeviceType, backedUp: credentialBackedUp, aaguid },
          },
          manager,
        );
        return manager.findOneByOrFail(Passkey, { id: row.id });
      })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) return 'taken' as const;
        throw error;
      });
    if (passkey === 'full' || passkey === 'taken') {
      throw new ProblemException({
        status: HttpStatus.CONFLICT,
        slug: passkey === 'full' ? 'too-many-passkeys' : 'passkey-already-registered',
        title: 'Conflict',
        detail:
          passkey === 'full'
            ? `An account keeps at most ${MAX_PASSKEYS_PER_USER} passkeys; delete one first.`
            : 'This passkey is already registered.',
      });
    }
    return toDto(passkey);
  }

  async rename(userId: string, id: string, name: string): Promise<PasskeyDto> {
    const passkey = await this.transactions.runAsSystem(async (manager) => {
      const [, changed] = await manager.query<[unknown[], number]>(
        'UPDATE passkeys SET name = $3, updated_at = now() WHERE id = $1 AND user_id = $2',
        [id, userId, name.trim()],
      );
      return changed === 1 ? manager.findOneByOrFail(Passkey, { id }) : undefined;
    });
    if (!passkey) throw new NotFoundException('No such passkey.');
    return toDto(passkey);
  }

  async remove(principal: UserPrincipal, id: string): Promise<void> {
    await this.stepUp.assertRecent(principal, 'auth.passkey.delete');
    const removed = await this.transactions.runAsSystem(async (manager) => {
      const [, deleted] = await manager.query<[unknown[], number]>(
        'DELETE FROM passkeys WHERE id = $1 AND user_id = $2',
        [id, principal.userId],
      );
      if (deleted !== 1) return false;
      await this.audit.record(
        {
          action: 'auth.passkey.delete',
          outcome: 'success',
          actorId: principal.userId,
          targetType: 'user',
          targetId: principal.userId,
          metadata: { passkeyId: id },
        },
        manager,
      );
      return true;
    });
    if (!removed) throw new NotFoundException('No such passkey.');
  }

  /** Options for a sign-in with any discoverable passkey of this site: the browser offers the choice. */
  async loginOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { generateAuthenticationOptions } = await loadWebAuthn();
    const options = await generateAuthenticationOptions({
      rpID: this.rp.rpId,
      allowCredentials: [],
      userVerification: 'required',
      timeout: this.rp.challengeTtl * 1000,
    });
    await this.remember(options.challenge, { purpose: 'login' });
    return options;
  }

  /** A passkey with user verification is both factors: it signs in alone, whatever else the account has. */
  async login(credential: AuthenticationCredentialDto): Promise<TokenResponseDto> {
    const outcome = await this.verifyAssertion(credential, 'login', { requireUserVerification: true });
    if (!outcome.ok) {
      await this.lockout.refusal(outcome.userId ?? null, `passkey:${outcome.reason}`);
      throw new UnauthorizedException('The passkey was not accepted.');
    }
    const { user, passkey } = outcome;
    if (!user.isActive) {
      await this.lockout.refusal(user.id, 'passkey:deactivated');
      throw new UnauthorizedException('The passkey was not accepted.');
    }
    if (this.config.auth.requireVerifiedEmail && !user.emailVerifiedAt) {
      await this.lockout.refusal(user.id, 'passkey:email_not_verified');
      throw new ProblemException({
        status: HttpStatus.FORBIDDEN,
        slug: 'email-not-verified',
        title: 'Email not verified',
        detail: 'Confirm your email address before signing in.',
      });
    }
    return this.auth.startSession(user, 'passkey', {}, { mfa: true, passkeyId: passkey.id });
  }

  /** Options for the second factor: the account's own passkeys. The mfa_token is not spent here. */
  async mfaOptions(mfaToken: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const userId = await this.transactions.runAsSystem((manager) =>
      this.oneTimeTokens.peek(manager, mfaToken, 'mfa_challenge'),
    );
    if (!userId) {
      await this.lockout.refusal(null, 'invalid_mfa_token');
      throw new UnauthorizedException('The MFA token is invalid or expired. Sign in again.');
    }
    return this.assertionOptions(userId, { purpose: 'mfa', userId }, 'preferred');
  }

  /** Second sign-in step with a passkey; the mfa_token dies on first use, right or wrong. */
  async completeMfa(mfaToken: string, credential: AuthenticationCredentialDto): Promise<TokenResponseDto> {
    const user = await this.mfa.takeChallenge(mfaToken);
    const userId = user.id;
    const outcome = await this.verifyAssertion(credential, 'mfa', { userId, requireUserVerification: false });
    if (!outcome.ok || !user.isActive) {
      await this.lockout.fail(user, `wrong_passkey:${outcome.ok ? 'deactivated' : outcome.reason}`);
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    return this.auth.startSession(user, 'password+passkey', {}, { mfa: true, passkeyId: outcome.passkey.id });
  }

  async stepUpOptions(principal: UserPrincipal): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.assertionOptions(
      principal.userId,
      { purpose: 'step-up', userId: principal.userId, sessionId: principal.sessionId },
      'required',
    );
  }

  async stepUpWith(principal: UserPrincipal, credential: AuthenticationCredentialDto): Promise<StepUpStatusDto> {
    const outcome = await this.verifyAssertion(credential, 'step-up', {
      userId: principal.userId,
      sessionId: principal.sessionId,
      requireUserVerification: true,
    });
    if (!outcome.ok) {
      await this.audit.record({
        action: 'auth.step_up',
        outcome: 'failure',
        actorId: principal.userId,
        targetType: 'user',
        targetId: principal.userId,
        metadata: { method: 'passkey', reason: outcome.reason },
      });
      throw new ValidationProblemException([{ field: 'passkey', message: 'passkey was not accepted' }]);
    }
    return this.stepUp.verified(principal, 'passkey');
  }

  private async assertionOptions(
    userId: string,
    pending: PendingChallenge,
    userVerification: 'required' | 'preferred',
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const passkeys = await this.passkeysOf(userId);
    if (passkeys.length === 0) {
      throw new ProblemException({
        status: HttpStatus.CONFLICT,
        slug: 'no-passkey',
        title: 'Conflict',
        detail: 'This account has no passkey.',
      });
    }
    const { generateAuthenticationOptions } = await loadWebAuthn();
    const options = await generateAuthenticationOptions({
      rpID: this.rp.rpId,
      allowCredentials: passkeys.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports as AuthenticatorTransport[],
      })),
      userVerification,
      timeout: this.rp.challengeTtl * 1000,
    });
    await this.remember(options.challenge, pending);
    return options;
  }

  /**
   * Checks an assertion against its (single-use) challenge, the stored public key, the origin and
   * RP id, user verification when asked, and the counter; then records the use.
   */
  private async verifyAssertion(
    credential: AuthenticationCredentialDto,
    purpose: Purpose,
    expected: { userId?: string; sessionId?: string; requireUserVerification: boolean },
  ): Promise<Assertion> {
    const pending = await this.takeChallenge(credential);
    const passkey = await this.transactions.runAsSystem((manager) =>
      manager.findOneBy(Passkey, { credentialId: credential.id }),
    );
    if (
      pending?.purpose !== purpose ||
      (expected.userId !== undefined && pending.userId !== expected.userId) ||
      (expected.sessionId !== undefined && pending.sessionId !== expected.sessionId)
    ) {
      // Recorded against the account whose passkey it is, when it is one, so its owner sees the attempt.
      return { ok: false, reason: 'challenge', userId: expected.userId ?? passkey?.userId };
    }
    if (!passkey) return { ok: false, reason: 'unknown_passkey', userId: expected.userId };
    if (expected.userId !== undefined && passkey.userId !== expected.userId) {
      return { ok: false, reason: 'other_account', userId: expected.userId };
    }
    // A discoverable sign-in names its account; it must be the passkey's own.
    const handle = credential.response.userHandle;
    if ((purpose === 'login' && !handle) || (handle && handle !== userHandle(passkey.userId))) {
      return { ok: false, reason: 'user_handle', userId: passkey.userId };
    }
    const { verifyAuthenticationResponse } = await loadWebAuthn();
    let info: Awaited<ReturnType<typeof verifyAuthenticationResponse>>['authenticationInfo'];
    try {
      const result = await verifyAuthenticationResponse({
        response: credential,
        expectedChallenge: pending.challenge,
        expectedOrigin: this.rp.origins,
        expectedRPID: this.rp.rpId,
        // The counter is checked below, atomically against the stored one.
        credential: {
          id: passkey.credentialId,
          publicKey: new Uint8Array(passkey.publicKey),
          counter: 0,
          transports: passkey.transports,
        },
        requireUserVerification: expected.requireUserVerification,
      });
      if (!result.verified) return { ok: false, reason: 'signature', userId: passkey.userId };
      info = result.authenticationInfo;
    } catch (error) {
      return {
        ok: false,
        reason: 'invalid',
        userId: passkey.userId,
        detail: error instanceof Error ? error.message : undefined,
      };
    }
    const used = await this.transactions.runAsSystem(async (manager) => {
      const [, updated] = await manager.query<[unknown[], number]>(
        `UPDATE passkeys SET counter = $2, backed_up = $3, device_type = $4, last_used_at = now(), updated_at = now()
          WHERE id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0))`,
        [passkey.id, info.newCounter, info.credentialBackedUp, info.credentialDeviceType],
      );
      if (updated === 1) return true;
      await this.audit.record(
        {
          action: 'auth.passkey.clone_warning',
          outcome: 'failure',
          actorId: passkey.userId,
          targetType: 'user',
          targetId: passkey.userId,
          metadata: { passkeyId: passkey.id, storedCounter: passkey.counter, presentedCounter: info.newCounter },
        },
        manager,
      );
      return false;
    });
    if (!used) return { ok: false, reason: 'counter_regressed', userId: passkey.userId };
    return { ok: true, user: await this.loadUser(passkey.userId), passkey };
  }

  private async remember(challenge: string, pending: PendingChallenge): Promise<void> {
    await this.challenges.put('challenge', challenge, pending, this.rp.challengeTtl * 1000);
  }

  /** The challenge the client data names, taken (spent) whatever happens next. */
  private async takeChallenge(credential: {
    response: { clientDataJSON: string };
  }): Promise<(PendingChallenge & { challenge: string }) | undefined> {
    const challenge = challengeOf(credential.response.clientDataJSON);
    if (!challenge) return undefined;
    const pending = await this.challenges.take<PendingChallenge>('challenge', challenge);
    return pending ? { ...pending, challenge } : undefined;
  }

  private passkeysOf(userId: string): Promise<Passkey[]> {
    return this.transactions.runAsSystem((manager) =>
      manager.find(Passkey, { where: { userId }, order: { createdAt: 'ASC' } }),
    );
  }

  private loadUser(userId: string): Promise<User> {
    return this.transactions.runAsSystem((manager) => manager.findOneByOrFail(User, { id: userId }));
  }
}
