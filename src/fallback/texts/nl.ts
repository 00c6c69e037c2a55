import type { LanguagePack } from './types.js';

// "U", as Dutch and Flemish organisations address customers.
export const nl: LanguagePack = {
  tag: 'nl',
  texts: {
    title: 'Geen beveiligde verbinding mogelijk',
    heading: 'Uw browser of apparaat is te oud voor een beveiligde verbinding',
    explanation: 'Om uw gegevens te beschermen, accepteert deze website alleen beveiligde verbindingen met moderne versleuteling (TLS 1.2 of nieuwer). Uw browser of besturingssysteem kan zo’n verbinding niet maken. Daarom kunnen we u de rest van de website niet laten zien.',
    reassurance: 'U hebt niets verkeerd gedaan en uw apparaat is niet kapot. We helpen u graag verder.',
    contactHeading: 'Zo bereikt u ons',
    contactEmail: 'Per e-mail: {email}',
    contactPhone: 'Telefonisch: {phone}',
    contactAddress: 'Post- en bezoekadres:\n{address}',
    contactHours: 'Openingstijden: {hours}',
    noContact: 'Wilt u contact met ons opnemen? Gebruik dan de contactgegevens die u al van ons hebt, bijvoorbeeld uit een brief of van een factuur. U kunt deze website ook later opnieuw bezoeken met een nieuwer apparaat.',
    wholeSiteHeading: 'Zo kunt u de hele website gebruiken',
    wholeSite: 'Werk uw browser of besturingssysteem bij, of gebruik een ander, nieuwer apparaat. Elke actuele versie van Chrome, Edge, Firefox of Safari werkt.',
    footer: 'Deze pagina vraagt u nooit om iets te downloaden of te installeren. We hebben geen gegevens over u ontvangen behalve wat uw browser bij elke pagina meestuurt.',
    switchOffBefore: 'Vanaf {date} accepteert deze website alleen nog verbindingen met TLS 1.2 of nieuwer.',
    switchOffSince: 'Deze eis geldt sinds {date}.',
    interstitialHeading: 'Uw browser is binnenkort te oud voor deze website',
    interstitialExplanation: 'Vanaf {date} accepteert deze website alleen nog beveiligde verbindingen met moderne versleuteling (TLS 1.2 of nieuwer). Uw browser of besturingssysteem kan zo’n verbinding niet maken en kan deze website vanaf die datum dus niet meer openen.',
    interstitialAdvice: 'Wilt u de website daarna blijven gebruiken? Werk dan uw browser of besturingssysteem bij, of gebruik een ander, nieuwer apparaat. Elke actuele versie van Chrome, Edge, Firefox of Safari werkt.',
    interstitialUntilThen: 'Tot die tijd kunt u de website gewoon gebruiken.',
    interstitialContinue: 'Verder naar de website',
  },
};
