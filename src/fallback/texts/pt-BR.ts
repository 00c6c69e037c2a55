import { withFirstOrdinal } from './dates.js';
import type { LanguagePack } from './types.js';

// Brazilian Portuguese with "você", as Brazilian banks and public services write online. Also offered to
// pt-PT visitors when no European Portuguese texts are configured: it reads as foreign there, not as wrong.
export const ptBR: LanguagePack = {
  tag: 'pt-BR',
  texts: {
    title: 'Não é possível estabelecer uma conexão segura',
    heading: 'Seu navegador ou dispositivo é antigo demais para se conectar com segurança',
    explanation: 'Para proteger suas informações, este site só aceita conexões seguras com criptografia moderna (TLS 1.2 ou superior). O navegador ou sistema operacional que você está usando não consegue estabelecer esse tipo de conexão, por isso não podemos mostrar o restante do site.',
    reassurance: 'Você não fez nada de errado e seu dispositivo não está com defeito. Continuamos à sua disposição.',
    contactHeading: 'Como falar conosco',
    contactEmail: 'Por e-mail: {email}',
    contactPhone: 'Por telefone: {phone}',
    contactAddress: 'Por correio ou pessoalmente:\n{address}',
    contactHours: 'Horário de atendimento: {hours}',
    noContact: 'Se precisar falar conosco, use os contatos que você já tem, por exemplo, os que constam em uma carta, uma fatura ou um cartão, ou volte a este site usando um dispositivo mais novo.',
    wholeSiteHeading: 'Para acessar o site completo',
    wholeSite: 'Atualize seu navegador ou sistema operacional, ou use outro dispositivo mais novo: qualquer versão atual do Chrome, Edge, Firefox ou Safari funciona.',
    footer: 'Esta página nunca pede que você baixe ou instale nada. Não recebemos nenhuma informação sua além do que seu navegador já envia ao abrir qualquer página.',
    switchOffBefore: 'A partir de {date}, este site só aceitará conexões com TLS 1.2 ou superior.',
    switchOffSince: 'Essa exigência está em vigor desde {date}.',
    interstitialHeading: 'Em breve seu navegador será antigo demais para este site',
    interstitialExplanation: 'A partir de {date}, este site só aceitará conexões seguras com criptografia moderna (TLS 1.2 ou superior). O navegador ou sistema operacional que você está usando não consegue estabelecer esse tipo de conexão e, a partir dessa data, não conseguirá mais abrir este site.',
    interstitialAdvice: 'Para continuar usando o site depois dessa data, atualize seu navegador ou sistema operacional, ou use outro dispositivo mais novo: qualquer versão atual do Chrome, Edge, Firefox ou Safari funciona.',
    interstitialUntilThen: 'Até lá, você pode usar o site normalmente.',
    interstitialContinue: 'Ir para o site',
  },
  // "1º de março", as Brazilians write the first of a month.
  formatDate: (date, tag) => withFirstOrdinal(date, tag, '1º'),
};
