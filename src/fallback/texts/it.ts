import type { LanguagePack } from './types.js';

// Formal address (lei, lower case as in current usage).
export const it: LanguagePack = {
  tag: 'it',
  texts: {
    title: 'Impossibile stabilire una connessione sicura',
    heading: 'Il suo browser o dispositivo è troppo datato per collegarsi in modo sicuro',
    explanation: 'Per proteggere i suoi dati, questo sito accetta solo connessioni sicure con crittografia moderna (TLS 1.2 o versioni successive). Il browser o il sistema operativo che sta usando non è in grado di stabilire questo tipo di connessione, quindi non possiamo mostrarle il resto del sito.',
    reassurance: 'Non ha fatto nulla di sbagliato e il suo dispositivo non è guasto. Restiamo comunque a sua disposizione.',
    contactHeading: 'Come contattarci',
    contactEmail: 'Per e-mail: {email}',
    contactPhone: 'Per telefono: {phone}',
    contactAddress: 'Per posta o di persona:\n{address}',
    contactHours: 'Orari di apertura: {hours}',
    noContact: 'Se ha bisogno di contattarci, utilizzi i recapiti che ha già ricevuto da noi, ad esempio su una lettera, una fattura o un biglietto da visita, oppure torni su questo sito da un dispositivo più recente.',
    wholeSiteHeading: 'Per accedere a tutto il sito',
    wholeSite: 'Aggiorni il browser o il sistema operativo, oppure utilizzi un altro dispositivo più recente: va bene qualsiasi versione attuale di Chrome, Edge, Firefox o Safari.',
    footer: 'Questa pagina non le chiederà mai di scaricare o installare nulla. Non abbiamo ricevuto alcuna informazione su di lei oltre a quelle che il suo browser invia con ogni pagina.',
    // "dal giorno": "dal 1 marzo" but "dall'8 marzo"; a formatted date cannot know which article it needs.
    switchOffBefore: 'A partire dal giorno {date}, questo sito accetterà solo connessioni con TLS 1.2 o versioni successive.',
    switchOffSince: 'Questo requisito è in vigore dal giorno {date}.',
    interstitialHeading: 'Presto il suo browser sarà troppo datato per questo sito',
    interstitialExplanation: 'A partire dal giorno {date}, questo sito accetterà solo connessioni sicure con crittografia moderna (TLS 1.2 o versioni successive). Il browser o il sistema operativo che sta usando non è in grado di stabilire questo tipo di connessione, quindi da quella data non potrà più aprire questo sito.',
    interstitialAdvice: 'Per continuare a usare il sito dopo quella data, aggiorni il browser o il sistema operativo, oppure utilizzi un altro dispositivo più recente: va bene qualsiasi versione attuale di Chrome, Edge, Firefox o Safari.',
    interstitialUntilThen: 'Fino ad allora può continuare a usare il sito come sempre.',
    interstitialContinue: 'Vai al sito',
  },
};
