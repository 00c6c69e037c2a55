import type { LanguagePack } from './types.js';

// Usted, and words shared by Spain and Latin America (no vosotros, no "ordenador").
export const es: LanguagePack = {
  tag: 'es',
  texts: {
    title: 'No es posible establecer una conexión segura',
    heading: 'Su navegador o dispositivo es demasiado antiguo para conectarse de forma segura',
    explanation: 'Para proteger su información, este sitio web solo acepta conexiones seguras con cifrado moderno (TLS 1.2 o posterior). El navegador o el sistema operativo que está usando no puede establecer este tipo de conexión, por lo que no podemos mostrarle el resto del sitio.',
    reassurance: 'No ha hecho nada incorrecto y su dispositivo no está averiado. Seguimos a su disposición.',
    contactHeading: 'Cómo ponerse en contacto con nosotros',
    contactEmail: 'Por correo electrónico: {email}',
    contactPhone: 'Por teléfono: {phone}',
    contactAddress: 'Por correo postal o en persona:\n{address}',
    contactHours: 'Horario de atención: {hours}',
    noContact: 'Si necesita ponerse en contacto con nosotros, utilice los datos de contacto que ya tenga, por ejemplo, los de una carta, una factura o una tarjeta, o vuelva a visitar este sitio desde un dispositivo más reciente.',
    wholeSiteHeading: 'Para acceder a todo el sitio web',
    wholeSite: 'Actualice su navegador o su sistema operativo, o utilice otro dispositivo más reciente: le servirá cualquier versión actual de Chrome, Edge, Firefox o Safari.',
    footer: 'Esta página nunca le pedirá que descargue ni instale nada. No hemos recibido ningún dato suyo aparte de los que su navegador envía al abrir cualquier página.',
    switchOffBefore: 'A partir del {date}, este sitio web solo aceptará conexiones con TLS 1.2 o posterior.',
    switchOffSince: 'Este requisito está en vigor desde el {date}.',
    interstitialHeading: 'Su navegador pronto será demasiado antiguo para este sitio web',
    interstitialExplanation: 'A partir del {date}, este sitio web solo aceptará conexiones seguras con cifrado moderno (TLS 1.2 o posterior). El navegador o el sistema operativo que está usando no puede establecer este tipo de conexión, así que a partir de esa fecha ya no podrá abrir este sitio.',
    interstitialAdvice: 'Para seguir usando el sitio después de esa fecha, actualice su navegador o su sistema operativo, o utilice otro dispositivo más reciente: le servirá cualquier versión actual de Chrome, Edge, Firefox o Safari.',
    interstitialUntilThen: 'Hasta entonces, puede seguir usando el sitio con normalidad.',
    interstitialContinue: 'Ir al sitio web',
  },
};
