"""The user pool's passkey (WebAuthn) features, as a relying party:
- the WEB_AUTHN sign-in challenge: CREDENTIAL_REQUEST_OPTIONS, and the check of the assertion that answers it
  (WebAuthn L3 §7.2);
- the credential operations authorized by an access token: StartWebAuthnRegistration,
  CompleteWebAuthnRegistration (§7.1), ListWebAuthnCredentials, DeleteWebAuthnCredential.
Registered passkeys live on the pool's User objects (so a new one works for sign-in at once) and every change
is written to passkeys.json in the state directory.
"""

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import os
import secrets
import sys
from dataclasses import dataclass

import standin_webauthn as wa
from standin_errors import ApiError, invalid, member, not_authorized, validation
from standin_pool import (AUTHENTICATOR_ATTACHMENTS, MAX_PASSKEYS_PER_USER, Passkey, Pool, PoolError, User,
                          check_credential_ids_unique, default_friendly_name, load_passkey)
from standin_tokens import AccessTokenError, TokenIssuer
from standin_webauthn import WebAuthnError

SIGN_IN_TIMEOUT_MS = 180000
CHALLENGE_BYTES = 16
MAX_OUTSTANDING_REGISTRATIONS = 10
PUB_KEY_CRED_PARAMS = [{"alg": wa.ES256, "type": "public-key"}, {"alg": wa.RS256, "type": "public-key"}]

# Sign-in refusals beyond those of standin_webauthn (all answer NotAuthorizedException).
NOT_ALLOWED = "credential"  # not in allowCredentials, or no longer registered to the user
CHALLENGE = "challenge"
USER_HANDLE = "user_handle"
COUNTER = "counter"

# How CompleteWebAuthnRegistration answers each failed check.
_REGISTRATION_ERRORS = {
    wa.MALFORMED: "InvalidParameterException",
    wa.WRONG_TYPE: "InvalidParameterException",
    wa.USER_PRESENCE: "InvalidParameterException",
    wa.ATTESTATION: "InvalidParameterException",
    wa.ORIGIN: "WebAuthnOriginNotAllowedException",
    wa.RP_ID: "WebAuthnRelyingPartyMismatchException",
    wa.USER_VERIFICATION: "WebAuthnCredentialNotSupportedException",
    wa.UNSUPPORTED: "WebAuthnCredentialNotSupportedException",
}


def user_handle(user: User) -> bytes:
    """The WebAuthn user.id Cognito assigns: the UTF-8 bytes of the user's sub."""
    return user.sub.encode("utf-8")


@dataclass
class _Registration:
    challenge: str
    client_id: str
    expires: float


class PasskeyService:
    def __init__(self, pool: Pool, tokens: TokenIssuer, clock, store_path: str = None):
        self.pool = pool
        self.config = pool.webauthn
        self.tokens = tokens
        self._clock = clock
        self._store_path = store_path
        self._registrations = {}  # user id() -> [_Registration], oldest first
        self._seq = itertools.count(1)
        self._page_key = secrets.token_bytes(32)
        for user in pool.users:
            for passkey in user.passkeys:
                passkey.seq = next(self._seq)
        self.save()
        self.operations = {
            "StartWebAuthnRegistration": self.start_registration,
            "CompleteWebAuthnRegistration": self.complete_registration,
            "ListWebAuthnCredentials": self.list_credentials,
            "DeleteWebAuthnCredential": self.delete_credential,
        }

    # ---- sign-in (WEB_AUTHN challenge) ----------------------------------------------------------------------

    def request_options(self, user: User):
        """CREDENTIAL_REQUEST_OPTIONS for a sign-in, and the session state the answer is checked against."""
        challenge = wa.b64url(secrets.token_bytes(CHALLENGE_BYTES))
        allowed = [{"type": "public-key", "id": p.credential_id, "transports": list(p.transports)}
                   for p in user.passkeys]
        options = {"challenge": challenge, "timeout": SIGN_IN_TIMEOUT_MS, "rpId": self.config.relying_party_id,
                   "allowCredentials": allowed, "userVerification": self.config.user_verification,
                   # As in the captured fixture in Amplify's tests: clients must ignore keys they do not use.
                   "hints": [], "attestation": "none", "attestationFormats": []}
        return options, {"challenge": challenge, "allow": [p.credential_id for p in user.passkeys]}

    def verify_assertion(self, user: User, state: dict, credential_text: str, origins=None):
        """WebAuthn L3 §7.2 for the CREDENTIAL of a WEB_AUTHN answer; raises WebAuthnError. On success the
        stored signature counter is updated. `origins`: the accepted origins instead of the pool's (the
        managed-login pages accept only their own origin)."""
        credential_id, response = _parse_public_key_credential(_json_object(credential_text, "CREDENTIAL"),
                                                               "CREDENTIAL")
        client_data_raw = wa.b64url_decode(response.get("clientDataJSON"), "response.clientDataJSON")
        auth_data_raw = wa.b64url_decode(response.get("authenticatorData"), "response.authenticatorData")
        signature = wa.b64url_decode(response.get("signature"), "response.signature")
        handle = response.get("userHandle")
        handle = None if handle is None else wa.b64url_decode(handle, "response.userHandle")

        # §7.2 steps 5–7: a credential this sign-in allowed, still registered to this user, for this user.
        if credential_id not in state["allow"]:
            raise WebAuthnError(NOT_ALLOWED, f"credential {credential_id} is not in allowCredentials")
        passkey = next((p for p in user.passkeys if p.credential_id == credential_id), None)
        if passkey is None:
            raise WebAuthnError(NOT_ALLOWED, f"credential {credential_id} is no longer registered to the user")
        if handle is not None and handle != user_handle(user):
            raise WebAuthnError(USER_HANDLE, "response.userHandle is not the user's handle (base64url of its sub)")
        # Steps 8–14.
        client_data = wa.parse_client_data(client_data_raw)
        wa.check_type(client_data, "webauthn.get")
        if client_data.challenge != state["challenge"]:
            raise WebAuthnError(CHALLENGE, "clientDataJSON.challenge is not this sign-in's challenge")
        wa.check_origin(client_data, self.config.origins if origins is None else origins)
        # Steps 15–17.
        auth_data = wa.parse_authenticator_data(auth_data_raw)
        wa.check_authenticator_data(auth_data, self.config.relying_party_id, self.config.require_uv)
        # Steps 20–21.
        if not passkey.public_key.verify(signature, auth_data.raw + client_data.hash()):
            raise WebAuthnError(wa.SIGNATURE, "the assertion signature does not verify with the registered key")
        # Step 22: a counter that does not increase may mean a cloned authenticator.
        if (passkey.sign_count > 0 or auth_data.sign_count > 0) and auth_data.sign_count <= passkey.sign_count:
            raise WebAuthnError(COUNTER, f"signature counter {auth_data.sign_count} is not greater than the "
                                         f"stored {passkey.sign_count}")
        passkey.sign_count = auth_data.sign_count
        self.save()

    # ---- credential operations -----------------------------------------------------------------------------

    def start_registration(self, body: dict) -> dict:
        user, claims = self._authorize(body)
        self._require_enabled()
        if len(user.passkeys) >= MAX_PASSKEYS_PER_USER:
            raise ApiError("LimitExceededException", f"A user can register at most {MAX_PASSKEYS_PER_USER} passkeys.")
        challenge = wa.b64url(secrets.token_bytes(CHALLENGE_BYTES))
        pending = self._pending(user)
        pending.append(_Registration(challenge, claims["client_id"],
                                     self._clock() + self.config.registration_timeout_ms / 1000))
        del pending[:-MAX_OUTSTANDING_REGISTRATIONS]
        rp_id = self.config.relying_party_id
        return {"CredentialCreationOptions": {
            "challenge": challenge,
            "rp": {"id": rp_id, "name": rp_id},
            "user": {"id": wa.b64url(user_handle(user)), "name": user.username, "displayName": user.username},
            "pubKeyCredParams": PUB_KEY_CRED_PARAMS,
            "timeout": self.config.registration_timeout_ms,
            "excludeCredentials": [{"id": p.credential_id, "type": "public-key"} for p in user.passkeys],
            "authenticatorSelection": {"requireResidentKey": True, "residentKey": "required",
                                       "userVerification": self.config.user_verification},
        }}

    def complete_registration(self, body: dict):
        user, claims = self._authorize(body)
        self._require_enabled()
        credential = body.get("Credential")
        if credential is None:
            raise validation(None, "credential", "Member must not be null")
        try:
            passkey = self._register(user, claims, credential)
        except WebAuthnError as e:
            raise ApiError(_REGISTRATION_ERRORS[e.reason], e.message) from e
        passkey.seq = next(self._seq)
        user.passkeys.append(passkey)
        self.save()
        return None  # HTTP 200 with an empty body, as the API reference documents

    def list_credentials(self, body: dict) -> dict:
        user, _ = self._authorize(body)
        limit = body.get("MaxResults")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise ApiError("SerializationException", "MaxResults must be an integer")
        if limit is not None and not 0 <= limit <= MAX_PASSKEYS_PER_USER:
            bound = "greater than or equal to 0" if limit < 0 else "less than or equal to 20"
            raise validation(limit, "maxResults", f"Member must have value {bound}")
        limit = limit or MAX_PASSKEYS_PER_USER
        after = self._page_position(user, member(body, "NextToken"))
        rest = [p for p in user.passkeys if p.seq > after]
        page = rest[:limit]
        reply = {"Credentials": [{
            "CredentialId": p.credential_id,
            "FriendlyCredentialName": p.friendly_name,
            "RelyingPartyId": p.relying_party_id,
            **({"AuthenticatorAttachment": p.authenticator_attachment} if p.authenticator_attachment else {}),
            "AuthenticatorTransports": list(p.transports),
            "CreatedAt": round(p.created_at, 3),
        } for p in page]}
        if len(rest) > limit:
            reply["NextToken"] = self._page_token(user, page[-1].seq)
        return reply

    def delete_credential(self, body: dict) -> dict:
        user, _ = self._authorize(body)
        credential_id = member(body, "CredentialId", required=True)
        passkey = next((p for p in user.passkeys if p.credential_id == credential_id), None)
        if passkey is None:
            raise ApiError("ResourceNotFoundException", "Credential not found.")
        user.passkeys.remove(passkey)
        self.save()
        return {}

    # ---- registration (WebAuthn L3 §7.1) ------------------------------------------------------------------

    def _register(self, user: User, claims: dict, credential) -> Passkey:
        if not isinstance(credential, dict):
            raise WebAuthnError(wa.MALFORMED, "Credential must be a RegistrationResponseJSON object")
        credential_id, response = _parse_public_key_credential(credential, "Credential")
        client_data_raw = wa.b64url_decode(response.get("clientDataJSON"), "response.clientDataJSON")
        attestation_raw = wa.b64url_decode(response.get("attestationObject"), "response.attestationObject")
        transports = response.get("transports", [])
        if not isinstance(transports, list) or not all(isinstance(t, str) for t in transports):
            raise WebAuthnError(wa.MALFORMED, "response.transports must be an array of strings")
        attachment = credential.get("authenticatorAttachment")
        if attachment not in AUTHENTICATOR_ATTACHMENTS:
            attachment = None  # WebAuthn enums: relying parties ignore values they do not know

        # Steps 5–10: client data, and the challenge this user's StartWebAuthnRegistration issued.
        client_data = wa.parse_client_data(client_data_raw)
        wa.check_type(client_data, "webauthn.create")
        registration = self._take_registration(user, client_data.challenge)
        if registration.client_id != claims["client_id"]:
            raise ApiError("WebAuthnClientMismatchException", "The access token is for another app client than "
                                                              "the one that started the registration.")
        wa.check_origin(client_data, self.config.origins)
        # Steps 12–17.
        fmt, statement, auth_data = wa.parse_attestation_object(attestation_raw)
        wa.check_authenticator_data(auth_data, self.config.relying_party_id, self.config.require_uv)
        if auth_data.credential_key is None:
            raise WebAuthnError(wa.MALFORMED, "authenticator data has no attested credential data (AT not set)")
        if wa.b64url(auth_data.credential_id) != credential_id:
            raise WebAuthnError(wa.MALFORMED, "the attested credential id is not Credential.rawId")
        _check_convenience_fields(response, auth_data)
        # Steps 21–22 (no trust decision: Cognito does not enforce attestation).
        wa.verify_attestation(fmt, statement, auth_data, client_data.hash())
        # Steps 25–26.
        owner = next((u for u in self.pool.users for p in u.passkeys if p.credential_id == credential_id), None)
        if owner is not None:
            raise ApiError("InvalidParameterException", "The credential is already registered.")
        if len(user.passkeys) >= MAX_PASSKEYS_PER_USER:
            raise ApiError("LimitExceededException", f"A user can register at most {MAX_PASSKEYS_PER_USER} passkeys.")
        return Passkey(credential_id, auth_data.credential_key, auth_data.sign_count, list(transports), attachment,
                       default_friendly_name(attachment), self.config.relying_party_id, self._clock())

    def _pending(self, user: User) -> list:
        now = self._clock()
        pending = self._registrations.setdefault(id(user), [])
        # Expired challenges are kept for an hour so that they answer "expired" rather than "not found".
        pending[:] = [r for r in pending if r.expires + 3600 > now]
        return pending

    def _take_registration(self, user: User, challenge: str) -> _Registration:
        """The outstanding registration with this challenge. It is used up by this attempt, whatever its
        outcome: a failed registration needs a new StartWebAuthnRegistration."""
        pending = self._pending(user)
        registration = next((r for r in pending if hmac.compare_digest(r.challenge.encode(), challenge.encode())), None)
        if registration is None:
            raise ApiError("WebAuthnChallengeNotFoundException",
                           "No registration challenge of this user matches clientDataJSON.challenge.")
        pending.remove(registration)
        if registration.expires <= self._clock():
            raise ApiError("WebAuthnChallengeNotFoundException", "The registration challenge has expired.")
        return registration

    # ---- common ------------------------------------------------------------------------------------------

    def _authorize(self, body: dict):
        token = member(body, "AccessToken", required=True)
        try:
            claims = self.tokens.access_claims(token)
        except AccessTokenError as e:
            raise not_authorized(str(e)) from e
        user = self.pool.user_by_username(claims["username"])
        if claims["client_id"] not in self.pool.clients or user is None or user.sub != claims["sub"]:
            raise not_authorized("Invalid Access Token")
        if not user.enabled:
            raise not_authorized("User is disabled.")
        return user, claims

    def _require_enabled(self):
        if "WEB_AUTHN" not in self.pool.allowed_first_auth_factors:
            raise ApiError("WebAuthnNotEnabledException", "Passkeys (WEB_AUTHN) are not enabled for this user pool.")

    def _page_token(self, user: User, after: int) -> str:
        payload = f"{user.sub}:{after}".encode()
        mac = hmac.new(self._page_key, payload, hashlib.sha256).digest()[:16]
        return wa.b64url(payload) + "." + wa.b64url(mac)

    def _page_position(self, user: User, token) -> int:
        if token is None:
            return 0
        try:
            payload_text, mac_text = token.split(".")
            payload = base64.urlsafe_b64decode(payload_text + "=" * (-len(payload_text) % 4))
            mac = base64.urlsafe_b64decode(mac_text + "=" * (-len(mac_text) % 4))
            sub, _, after = payload.decode().rpartition(":")
            if hmac.compare_digest(mac, hmac.new(self._page_key, payload, hashlib.sha256).digest()[:16]) \
                    and sub == user.sub:
                return int(after)
        except (ValueError, binascii.Error, UnicodeError):
            pass
        raise invalid("Invalid NextToken.")

    def save(self):
        """Writes every user's passkeys to passkeys.json (atomically), for inspection and --keep-passkeys."""
        if self._store_path is None:
            return
        snapshot = {"relying_party_id": self.config.relying_party_id,
                    "users": {u.username: [p.to_json() for p in u.passkeys] for u in self.pool.users}}
        tmp = f"{self._store_path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(snapshot, f, indent=1)
            f.write("\n")
        os.replace(tmp, self._store_path)


def load_kept_passkeys(pool: Pool, path: str):
    """--keep-passkeys: the passkeys an earlier run wrote to `path` replace the pool file's for the users it
    lists. A file for another relying party id is ignored (changing the RP id invalidates passkeys);
    raises PoolError for an unusable file."""
    try:
        with open(path, encoding="utf-8") as f:
            snapshot = json.load(f)
    except FileNotFoundError:
        return
    except (OSError, ValueError) as e:
        raise PoolError(f"cannot read {path}: {e}") from e
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("users"), dict):
        raise PoolError(f"{path}: expected {{\"relying_party_id\": ..., \"users\": {{...}}}}")
    rp_id = pool.webauthn.relying_party_id
    if snapshot.get("relying_party_id") != rp_id:
        print(f"cognito-standin: {path} is for relying party {snapshot.get('relying_party_id')!r}, not {rp_id!r}; "
              f"its passkeys are not loaded", file=sys.stderr)
        return
    for username, entries in snapshot["users"].items():
        user = pool.user_by_username(username)
        if user is None:
            print(f"cognito-standin: {path}: user {username!r} is not in the pool; skipped", file=sys.stderr)
            continue
        if not isinstance(entries, list):
            raise PoolError(f"{path}: users.{username} must be a list")
        if len(entries) > MAX_PASSKEYS_PER_USER:
            raise PoolError(f"{path}: users.{username}: at most {MAX_PASSKEYS_PER_USER} passkeys per user")
        user.passkeys = [load_passkey(f"{path}: users.{username}[{n}]", entry, rp_id, 0.0)
                         for n, entry in enumerate(entries)]
    check_credential_ids_unique(pool.users)


def _json_object(text: str, what: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as e:
        raise WebAuthnError(wa.MALFORMED, f"{what} is not JSON: {e}") from e
    if not isinstance(value, dict):
        raise WebAuthnError(wa.MALFORMED, f"{what} is not a JSON object")
    return value


def _parse_public_key_credential(value: dict, what: str):
    """The members common to RegistrationResponseJSON and AuthenticationResponseJSON: returns (id, response)."""
    credential_id = value.get("id")
    wa.b64url_decode(credential_id, f"{what}.id")
    if value.get("rawId") != credential_id:
        raise WebAuthnError(wa.MALFORMED, f"{what}.rawId must equal {what}.id")
    if value.get("type") != "public-key":
        raise WebAuthnError(wa.MALFORMED, f"{what}.type must be \"public-key\"")
    response = value.get("response")
    if not isinstance(response, dict):
        raise WebAuthnError(wa.MALFORMED, f"{what}.response must be an object")
    extensions = value.get("clientExtensionResults", {})
    if not isinstance(extensions, dict):
        raise WebAuthnError(wa.MALFORMED, f"{what}.clientExtensionResults must be an object")
    attachment = value.get("authenticatorAttachment")
    if attachment is not None and not isinstance(attachment, str):
        raise WebAuthnError(wa.MALFORMED, f"{what}.authenticatorAttachment must be a string")
    return credential_id, response


def _check_convenience_fields(response: dict, auth_data: wa.AuthenticatorData):
    """RegistrationResponseJSON's optional copies of what the attestation object holds must agree with it."""
    if "authenticatorData" in response:
        if wa.b64url_decode(response["authenticatorData"], "response.authenticatorData") != auth_data.raw:
            raise WebAuthnError(wa.MALFORMED, "response.authenticatorData is not the attestation's authData")
    if "publicKeyAlgorithm" in response and response["publicKeyAlgorithm"] != auth_data.credential_key.alg:
        raise WebAuthnError(wa.MALFORMED, "response.publicKeyAlgorithm is not the credential key's algorithm")
    if "publicKey" in response:
        given = wa.b64url_decode(response["publicKey"], "response.publicKey")
        if given != auth_data.credential_key.spki():
            raise WebAuthnError(wa.MALFORMED, "response.publicKey is not the credential key (DER SPKI)")
