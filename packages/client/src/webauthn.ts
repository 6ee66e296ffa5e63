import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/browser';

export type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
};

/**
 * The platform's WebAuthn ceremonies, JSON in and JSON out (the shapes of WebAuthn Level 3's
 * `toJSON()`, which sessiond sends and reads). Browsers use `browserWebAuthn()`; a React Native
 * app passes its native passkey module (react-native-passkey's `Passkey.create` / `Passkey.get`
 * take and return these shapes); tests pass a software authenticator.
 */
export interface WebAuthnAdapter {
  startRegistration(options: PublicKeyCredentialCreationOptionsJSON): Promise<RegistrationResponseJSON>;
  startAuthentication(options: PublicKeyCredentialRequestOptionsJSON): Promise<AuthenticationResponseJSON>;
}

/**
 * @simplewebauthn/browser's ceremonies over `navigator.credentials`. Loaded on first use, so an
 * app that never touches passkeys (or runs where there is no `navigator.credentials`) never
 * loads it.
 */
export function browserWebAuthn(): WebAuthnAdapter {
  const load = () => import('@simplewebauthn/browser');
  return {
    startRegistration: async (optionsJSON) => (await load()).startRegistration({ optionsJSON }),
    startAuthentication: async (optionsJSON) => (await load()).startAuthentication({ optionsJSON }),
  };
}
