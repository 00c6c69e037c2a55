import type { LanguagePack } from './types.js';

// "Siz". Dates are followed by "tarihinden": a suffix on the year itself would depend on how it is read aloud.
export const tr: LanguagePack = {
  tag: 'tr',
  texts: {
    title: 'Güvenli bağlantı kurulamıyor',
    heading: 'Tarayıcınız veya cihazınız güvenli bağlantı için çok eski',
    explanation: 'Bilgilerinizi korumak için bu site yalnızca modern şifreleme kullanan güvenli bağlantıları (TLS 1.2 veya daha yeni) kabul etmektedir. Kullandığınız tarayıcı veya işletim sistemi bu tür bir bağlantı kuramadığı için sitenin geri kalanını size gösteremiyoruz.',
    reassurance: 'Bir hata yapmadınız; cihazınız da arızalı değil. Size yardımcı olmaya her zaman hazırız.',
    contactHeading: 'Bize ulaşın',
    contactEmail: 'E-posta: {email}',
    contactPhone: 'Telefon: {phone}',
    contactAddress: 'Posta ve ziyaret adresi:\n{address}',
    contactHours: 'Çalışma saatleri: {hours}',
    noContact: 'Bize ulaşmak isterseniz elinizdeki iletişim bilgilerini (örneğin bir mektup, fatura veya kartvizit üzerindekileri) kullanabilir ya da bu siteye daha yeni bir cihazdan tekrar girebilirsiniz.',
    wholeSiteHeading: 'Sitenin tamamını kullanmak için',
    wholeSite: 'Tarayıcınızı veya işletim sisteminizi güncelleyin ya da başka, daha yeni bir cihaz kullanın. Chrome, Edge, Firefox veya Safari’nin güncel sürümlerinden herhangi biriyle siteyi kullanabilirsiniz.',
    footer: 'Bu sayfa sizden hiçbir zaman bir şey indirmenizi veya kurmanızı istemez. Tarayıcınızın her sayfayı açarken gönderdiği bilgiler dışında hakkınızda bize hiçbir bilgi iletilmedi.',
    switchOffBefore: '{date} tarihinden itibaren bu site yalnızca TLS 1.2 veya daha yeni sürümlerle yapılan bağlantıları kabul edecektir.',
    switchOffSince: 'Bu gereklilik {date} tarihinden itibaren geçerlidir.',
    interstitialHeading: 'Tarayıcınız yakında bu site için yetersiz kalacak',
    interstitialExplanation: '{date} tarihinden itibaren bu site yalnızca modern şifreleme kullanan güvenli bağlantıları (TLS 1.2 veya daha yeni) kabul edecektir. Kullandığınız tarayıcı veya işletim sistemi bu tür bir bağlantı kuramadığından, bu tarihten sonra siteyi açamayacaksınız.',
    interstitialAdvice: 'Siteyi bu tarihten sonra da kullanmaya devam etmek için tarayıcınızı veya işletim sisteminizi güncelleyin ya da başka, daha yeni bir cihaz kullanın. Chrome, Edge, Firefox veya Safari’nin güncel sürümlerinden herhangi biriyle siteyi kullanabilirsiniz.',
    interstitialUntilThen: 'O tarihe kadar siteyi her zamanki gibi kullanabilirsiniz.',
    interstitialContinue: 'Siteye devam et',
  },
};
