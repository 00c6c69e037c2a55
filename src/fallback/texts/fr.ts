import { withFirstOrdinal } from './dates.js';
import type { LanguagePack } from './types.js';

// Vouvoiement. French typography: a no-break space before a colon.
export const fr: LanguagePack = {
  tag: 'fr',
  texts: {
    title: 'Connexion sécurisée impossible',
    heading: 'Votre navigateur ou votre appareil est trop ancien pour établir une connexion sécurisée',
    explanation: 'Pour protéger vos données, ce site n’accepte que les connexions sécurisées utilisant un chiffrement moderne (TLS 1.2 ou version ultérieure). Le navigateur ou le système d’exploitation que vous utilisez ne permet pas d’établir une telle connexion\u00a0: nous ne pouvons donc pas vous afficher les autres pages du site.',
    reassurance: 'Vous n’avez rien fait de mal et votre appareil n’est pas en panne. Nous restons à votre écoute.',
    contactHeading: 'Pour nous contacter',
    contactEmail: 'Par e-mail\u00a0: {email}',
    contactPhone: 'Par téléphone\u00a0: {phone}',
    contactAddress: 'Par courrier ou en personne\u00a0:\n{address}',
    contactHours: 'Horaires d’ouverture\u00a0: {hours}',
    noContact: 'Si vous souhaitez nous joindre, utilisez les coordonnées dont vous disposez déjà, par exemple sur un courrier, une facture ou une carte, ou revenez sur ce site depuis un appareil plus récent.',
    wholeSiteHeading: 'Pour accéder à l’ensemble du site',
    wholeSite: 'Mettez à jour votre navigateur ou votre système d’exploitation, ou utilisez un autre appareil plus récent\u00a0: toute version actuelle de Chrome, Edge, Firefox ou Safari convient.',
    footer: 'Cette page ne vous demandera jamais de télécharger ou d’installer quoi que ce soit. Aucune information vous concernant ne nous a été transmise en dehors de celles que votre navigateur envoie à chaque page consultée.',
    switchOffBefore: 'À partir du {date}, ce site n’acceptera plus que les connexions en TLS 1.2 ou version ultérieure.',
    switchOffSince: 'Cette exigence s’applique depuis le {date}.',
    interstitialHeading: 'Votre navigateur sera bientôt trop ancien pour ce site',
    interstitialExplanation: 'À partir du {date}, ce site n’acceptera plus que les connexions sécurisées utilisant un chiffrement moderne (TLS 1.2 ou version ultérieure). Le navigateur ou le système d’exploitation que vous utilisez ne permet pas d’établir une telle connexion\u00a0: à partir de cette date, il ne pourra plus ouvrir ce site.',
    interstitialAdvice: 'Pour continuer à utiliser le site après cette date, mettez à jour votre navigateur ou votre système d’exploitation, ou utilisez un autre appareil plus récent\u00a0: toute version actuelle de Chrome, Edge, Firefox ou Safari convient.',
    interstitialUntilThen: 'D’ici là, vous pouvez utiliser le site normalement.',
    interstitialContinue: 'Accéder au site',
  },
  // "le 1er mars", never "le 1 mars".
  formatDate: (date, tag) => withFirstOrdinal(date, tag, '1er'),
};
