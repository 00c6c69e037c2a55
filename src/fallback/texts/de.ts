import type { LanguagePack } from './types.js';

// Formal address (Sie), as German organisations write to customers.
export const de: LanguagePack = {
  tag: 'de',
  texts: {
    title: 'Keine sichere Verbindung möglich',
    heading: 'Ihr Browser oder Gerät ist zu alt für eine sichere Verbindung',
    explanation: 'Zum Schutz Ihrer Daten lässt diese Website nur sichere Verbindungen mit moderner Verschlüsselung (TLS 1.2 oder neuer) zu. Da Ihr Browser oder Betriebssystem eine solche Verbindung nicht herstellen kann, können wir Ihnen die übrigen Seiten leider nicht anzeigen.',
    reassurance: 'Sie haben nichts falsch gemacht, und Ihr Gerät ist nicht defekt. Wir sind trotzdem gern für Sie da.',
    contactHeading: 'So erreichen Sie uns',
    contactEmail: 'Per E-Mail: {email}',
    contactPhone: 'Telefonisch: {phone}',
    contactAddress: 'Per Post oder persönlich:\n{address}',
    contactHours: 'Öffnungszeiten: {hours}',
    noContact: 'Wenn Sie Kontakt mit uns aufnehmen möchten, verwenden Sie bitte die Kontaktdaten, die Ihnen bereits vorliegen, etwa aus einem Schreiben, von einer Rechnung oder einer Visitenkarte. Sie können diese Website auch mit einem neueren Gerät erneut aufrufen.',
    wholeSiteHeading: 'So können Sie die ganze Website nutzen',
    wholeSite: 'Aktualisieren Sie Ihren Browser oder Ihr Betriebssystem oder verwenden Sie ein anderes, neueres Gerät. Jede aktuelle Version von Chrome, Edge, Firefox oder Safari funktioniert.',
    footer: 'Diese Seite fordert Sie niemals auf, etwas herunterzuladen oder zu installieren. Wir haben keine Daten über Sie erhalten, außer denen, die Ihr Browser bei jedem Seitenaufruf ohnehin mitsendet.',
    switchOffBefore: 'Ab dem {date} lässt diese Website nur noch Verbindungen mit TLS 1.2 oder neuer zu.',
    switchOffSince: 'Diese Anforderung gilt seit dem {date}.',
    interstitialHeading: 'Ihr Browser ist bald zu alt für diese Website',
    interstitialExplanation: 'Ab dem {date} lässt diese Website nur noch sichere Verbindungen mit moderner Verschlüsselung (TLS 1.2 oder neuer) zu. Ihr Browser oder Betriebssystem kann solche Verbindungen nicht herstellen und wird diese Website ab diesem Tag nicht mehr öffnen können.',
    interstitialAdvice: 'Damit Sie die Website auch danach nutzen können, aktualisieren Sie bitte Ihren Browser oder Ihr Betriebssystem oder verwenden Sie ein anderes, neueres Gerät. Jede aktuelle Version von Chrome, Edge, Firefox oder Safari funktioniert.',
    interstitialUntilThen: 'Bis dahin können Sie die Website wie gewohnt nutzen.',
    interstitialContinue: 'Weiter zur Website',
  },
};
