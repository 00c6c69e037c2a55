/**
 * Every text of the fallback page and of the switch-off interstitial, for one language. A built-in
 * language that lacks a key does not compile; an owner's language that lacks one is refused at creation.
 *
 * Texts are plain text, never HTML: they are escaped when rendered, a line break becomes `<br>`, and
 * `{name}` is a placeholder (see `PLACEHOLDERS`). The built-in texts never put `{organisation}` inside a
 * sentence: a name (or a stand-in such as "this site") does not decline, and German, Polish, Russian or
 * Turkish grammar around it would break. The organisation's name is shown above the heading instead.
 */
export interface PageTexts {
  /** `<title>` of the fallback page; ` – {organisation}` is appended unless it uses the placeholder. */
  title: string;
  /** The fallback page's `<h1>`. */
  heading: string;
  /** Why the visitor sees the page. */
  explanation: string;
  /** It is not the visitor's fault; we still want to hear from them. */
  reassurance: string;
  /** Heading above the contact details (or above `noContact`). */
  contactHeading: string;
  /** One contact line, with `{email}` where the `mailto:` link goes. */
  contactEmail: string;
  /** One contact line, with `{phone}` where the `tel:` link goes. */
  contactPhone: string;
  /** One contact line, with `{address}` where the postal address goes. */
  contactAddress: string;
  /** One contact line, with `{hours}` where the opening hours go. */
  contactHours: string;
  /** Shown instead of the contact list when the owner gave no e-mail, phone or address. */
  noContact: string;
  /** Heading above `wholeSite`. */
  wholeSiteHeading: string;
  /** What to do to use the whole site again. */
  wholeSite: string;
  /** Small print at the bottom of both pages. */
  footer: string;
  /** Fallback page, before the switch-off date: "From {date}, this site will only accept …". */
  switchOffBefore: string;
  /** Fallback page, from the switch-off date on: "This requirement has applied since {date}.". */
  switchOffSince: string;
  /** `<title>` and `<h1>` of the interstitial. */
  interstitialHeading: string;
  /** What changes on `{date}` and why it affects this visitor. */
  interstitialExplanation: string;
  /** What to do before that date. */
  interstitialAdvice: string;
  /** The site still works until then. */
  interstitialUntilThen: string;
  /** Text of the "continue to the site" link. */
  interstitialContinue: string;
}

export type TextKey = keyof PageTexts;

export type Placeholder = 'organisation' | 'email' | 'phone' | 'address' | 'hours' | 'date';

/** Which placeholders each text must contain, and which it may contain. */
export interface PlaceholderRule {
  required: readonly Placeholder[];
  allowed: readonly Placeholder[];
}

const plain: PlaceholderRule = { required: [], allowed: ['organisation'] };
const dated: PlaceholderRule = { required: [], allowed: ['organisation', 'date'] };
const needs = (placeholder: Placeholder, rule: PlaceholderRule = plain): PlaceholderRule => ({
  required: [placeholder],
  allowed: [...rule.allowed, placeholder],
});

// `{date}` only where a date is always known (the switch-off texts); each contact value only on its line.
export const PLACEHOLDERS: Readonly<Record<TextKey, PlaceholderRule>> = {
  title: plain,
  heading: plain,
  explanation: plain,
  reassurance: plain,
  contactHeading: plain,
  contactEmail: needs('email'),
  contactPhone: needs('phone'),
  contactAddress: needs('address'),
  contactHours: needs('hours'),
  noContact: plain,
  wholeSiteHeading: plain,
  wholeSite: plain,
  footer: plain,
  switchOffBefore: needs('date', dated),
  switchOffSince: needs('date', dated),
  interstitialHeading: dated,
  interstitialExplanation: needs('date', dated),
  interstitialAdvice: dated,
  interstitialUntilThen: dated,
  interstitialContinue: plain,
};

/** Every key, in the order they appear on the pages (complete: `PLACEHOLDERS` is a full record). */
export const TEXT_KEYS = Object.keys(PLACEHOLDERS) as readonly TextKey[];

/** Texts that may not be empty: a page needs a title, a heading and a visible link. */
export const NON_EMPTY_KEYS: readonly TextKey[] = ['title', 'heading', 'interstitialHeading', 'interstitialContinue'];

/** `{name}` in a text. Anything else in braces is literal text. */
export const PLACEHOLDER_PATTERN = /\{([A-Za-z]+)\}/g;

/** One built-in language: its texts and how its sentences want a date written. */
export interface LanguagePack {
  /** BCP 47 tag: the `lang` attribute, `Content-Language` and the key in `page.texts`. */
  readonly tag: string;
  readonly texts: Readonly<PageTexts>;
  /**
   * The date as the `{date}` placeholder shows it, in UTC. Defaults to `Intl.DateTimeFormat(tag)` with
   * the long month name; a language overrides it where its sentences need more (French "1er mars").
   */
  readonly formatDate?: (date: Date, tag: string) => string;
}
