import { de } from './de.js';
import { en } from './en.js';
import { es } from './es.js';
import { fr } from './fr.js';
import { it } from './it.js';
import { ja } from './ja.js';
import { nl } from './nl.js';
import { pl } from './pl.js';
import { ptBR } from './pt-BR.js';
import { ru } from './ru.js';
import { tr } from './tr.js';
import type { LanguagePack } from './types.js';
import { zhHans } from './zh-Hans.js';

/** The built-in languages, English first (the default default). */
export const BUILT_IN_LANGUAGES: readonly LanguagePack[] = [en, de, fr, es, it, ptBR, nl, pl, ru, zhHans, ja, tr];

export type { LanguagePack, PageTexts, TextKey, Placeholder } from './types.js';
