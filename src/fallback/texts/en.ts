import { longDate } from './dates.js';
import type { LanguagePack } from './types.js';

// British English, as the rest of the package writes it.
export const en: LanguagePack = {
  tag: 'en',
  texts: {
    title: 'Your browser cannot connect securely',
    heading: 'Your browser or device is too old to connect securely',
    explanation: 'To protect your information, this site only accepts secure connections made with modern encryption (TLS 1.2 or newer). The browser or operating system you are using cannot make such a connection, so we cannot show you the rest of the site.',
    reassurance: 'You have done nothing wrong, and your device is not faulty. We still want to hear from you.',
    contactHeading: 'How to reach us',
    contactEmail: 'By e-mail: {email}',
    contactPhone: 'By telephone: {phone}',
    contactAddress: 'By post or in person:\n{address}',
    contactHours: 'Opening hours: {hours}',
    noContact: 'If you need to reach us, please use the contact details you already have from us, such as those on a letter, an invoice or a card, or visit this site again from a newer device.',
    wholeSiteHeading: 'To use the whole site',
    wholeSite: 'Update your browser or operating system, or use another, newer device: any current version of Chrome, Edge, Firefox or Safari will work.',
    footer: 'This page never asks you to download or install anything. No information about you has been sent to us beyond what your browser sends with every page.',
    switchOffBefore: 'From {date}, this site will only accept connections made with TLS 1.2 or newer.',
    switchOffSince: 'This requirement has applied since {date}.',
    interstitialHeading: 'Your browser will soon be too old for this site',
    interstitialExplanation: 'From {date}, this site will only accept secure connections made with modern encryption (TLS 1.2 or newer). The browser or operating system you are using cannot make such a connection, so from that date it will no longer be able to open this site.',
    interstitialAdvice: 'To keep using the site after that date, update your browser or operating system, or use another, newer device: any current version of Chrome, Edge, Firefox or Safari will work.',
    interstitialUntilThen: 'Until then, you can use the site as usual.',
    interstitialContinue: 'Continue to the site',
  },
  // Bare `en` is American in ICU ("March 1, 2027"); the texts are British, so is the date. An owner's
  // `lang: 'en-US'` still gets the American order.
  formatDate: (date, tag) => longDate(date, tag === 'en' ? 'en-GB' : tag),
};
