import type { LanguagePack } from './types.js';

// Simplified Chinese, 您 throughout; full-width punctuation, a space between Chinese and Latin words.
export const zhHans: LanguagePack = {
  tag: 'zh-Hans',
  texts: {
    title: '无法建立安全连接',
    heading: '您的浏览器或设备版本过旧，无法建立安全连接',
    explanation: '为保护您的信息安全，本网站仅接受采用现代加密技术（TLS 1.2 或更高版本）的安全连接。您当前使用的浏览器或操作系统无法建立此类连接，因此我们无法向您显示网站的其他内容。',
    reassurance: '这并不是您操作有误，您的设备也没有故障。我们仍然乐意为您提供帮助。',
    contactHeading: '联系我们',
    contactEmail: '电子邮件：{email}',
    contactPhone: '电话：{phone}',
    contactAddress: '邮寄或来访地址：\n{address}',
    contactHours: '服务时间：{hours}',
    noContact: '如需联系我们，请使用您已有的联系方式（例如信函、账单或名片上的联系方式），或使用较新的设备再次访问本网站。',
    wholeSiteHeading: '如何访问完整网站',
    wholeSite: '请更新您的浏览器或操作系统，或改用其他较新的设备。任何最新版本的 Chrome、Edge、Firefox 或 Safari 均可正常使用。',
    footer: '本页面绝不会要求您下载或安装任何内容。除浏览器在打开任何网页时都会发送的信息外，我们没有收到关于您的任何信息。',
    switchOffBefore: '自{date}起，本网站将仅接受使用 TLS 1.2 或更高版本的连接。',
    switchOffSince: '此要求自{date}起生效。',
    interstitialHeading: '您的浏览器即将无法访问本网站',
    interstitialExplanation: '自{date}起，本网站将仅接受采用现代加密技术（TLS 1.2 或更高版本）的安全连接。您当前使用的浏览器或操作系统无法建立此类连接，因此从该日起将无法打开本网站。',
    interstitialAdvice: '如需在该日期之后继续使用本网站，请更新您的浏览器或操作系统，或改用其他较新的设备。任何最新版本的 Chrome、Edge、Firefox 或 Safari 均可正常使用。',
    interstitialUntilThen: '在此之前，您仍可照常使用本网站。',
    interstitialContinue: '继续访问网站',
  },
};
