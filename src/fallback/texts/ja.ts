import type { LanguagePack } from './types.js';

// です・ます with humble forms (受け付けております), as a Japanese company or office writes to the public.
export const ja: LanguagePack = {
  tag: 'ja',
  texts: {
    title: '安全な接続ができません',
    heading: 'お使いのブラウザまたは端末が古いため、安全に接続できません',
    explanation: '安全にご利用いただくため、当サイトでは最新の暗号化方式（TLS 1.2 以降）による接続のみを受け付けております。現在お使いのブラウザまたはOSはこの方式に対応していないため、これ以上ページを表示することができません。',
    reassurance: '操作に誤りがあったわけでも、端末が故障しているわけでもありません。お問い合わせは引き続き承っております。',
    contactHeading: 'お問い合わせ先',
    contactEmail: 'メール：{email}',
    contactPhone: '電話：{phone}',
    contactAddress: '所在地（郵送・ご来訪）：\n{address}',
    contactHours: '受付時間：{hours}',
    noContact: 'お問い合わせの際は、お手元の郵便物、請求書、名刺などに記載の連絡先をご利用いただくか、新しい端末から改めて当サイトにアクセスしてください。',
    wholeSiteHeading: 'すべてのページをご覧いただくには',
    wholeSite: 'ブラウザやOSを更新していただくか、より新しい端末をご利用ください。Chrome、Edge、Firefox、Safari の最新版であれば、いずれもご利用いただけます。',
    footer: 'このページからソフトウェアのダウンロードやインストールをお願いすることは一切ありません。また、ブラウザがページを開く際に通常送信する情報のほかには、何も送信されていません。',
    switchOffBefore: '{date}以降、当サイトは TLS 1.2 以降による接続のみを受け付けます。',
    switchOffSince: 'この対応は{date}より実施しております。',
    interstitialHeading: 'まもなく、お使いのブラウザでは当サイトをご利用いただけなくなります',
    interstitialExplanation: '{date}以降、当サイトでは最新の暗号化方式（TLS 1.2 以降）による安全な接続のみを受け付けます。現在お使いのブラウザまたはOSはこの方式に対応していないため、同日以降は当サイトを表示できなくなります。',
    interstitialAdvice: '同日以降も引き続きご利用いただくには、ブラウザやOSを更新していただくか、より新しい端末をご利用ください。Chrome、Edge、Firefox、Safari の最新版であれば、いずれもご利用いただけます。',
    interstitialUntilThen: 'それまでは、これまでどおりご利用いただけます。',
    interstitialContinue: 'サイトへ進む',
  },
};
