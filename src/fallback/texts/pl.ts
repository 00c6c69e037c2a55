import type { LanguagePack } from './types.js';

// "Państwo" (formal and gender-neutral), as Polish institutions write; "r." after a year, as is customary.
export const pl: LanguagePack = {
  tag: 'pl',
  texts: {
    title: 'Nie można nawiązać bezpiecznego połączenia',
    heading: 'Przeglądarka lub urządzenie jest zbyt stare, by nawiązać bezpieczne połączenie',
    explanation: 'Aby chronić Państwa dane, ta strona internetowa przyjmuje wyłącznie bezpieczne połączenia z nowoczesnym szyfrowaniem (TLS 1.2 lub nowszym). Używana przeglądarka lub system operacyjny nie obsługuje takich połączeń, dlatego nie możemy wyświetlić pozostałych treści.',
    reassurance: 'To nie jest Państwa wina, a urządzenie nie jest uszkodzone. Nadal jesteśmy do Państwa dyspozycji.',
    contactHeading: 'Jak się z nami skontaktować',
    contactEmail: 'E-mail: {email}',
    contactPhone: 'Telefon: {phone}',
    contactAddress: 'Adres do korespondencji i wizyt osobistych:\n{address}',
    contactHours: 'Godziny otwarcia: {hours}',
    noContact: 'Jeśli chcą się Państwo z nami skontaktować, prosimy skorzystać z danych kontaktowych, które już Państwo mają, np. z listu, faktury lub wizytówki, albo odwiedzić tę stronę ponownie na nowszym urządzeniu.',
    wholeSiteHeading: 'Jak uzyskać dostęp do całej strony',
    wholeSite: 'Prosimy zaktualizować przeglądarkę lub system operacyjny albo skorzystać z innego, nowszego urządzenia. Zadziała każda aktualna wersja przeglądarki Chrome, Edge, Firefox lub Safari.',
    footer: 'Ta strona nigdy nie poprosi o pobranie ani zainstalowanie czegokolwiek. Nie otrzymaliśmy o Państwu żadnych informacji poza tymi, które przeglądarka wysyła przy otwieraniu każdej strony.',
    switchOffBefore: 'Od {date} r. ta strona będzie przyjmować wyłącznie połączenia z użyciem protokołu TLS 1.2 lub nowszego.',
    switchOffSince: 'Ten wymóg obowiązuje od {date} r.',
    interstitialHeading: 'Ta strona wkrótce przestanie działać w Państwa przeglądarce',
    interstitialExplanation: 'Od {date} r. ta strona będzie przyjmować wyłącznie bezpieczne połączenia z nowoczesnym szyfrowaniem (TLS 1.2 lub nowszym). Używana przeglądarka lub system operacyjny nie obsługuje takich połączeń, więc od tego dnia nie otworzy już tej strony.',
    interstitialAdvice: 'Aby nadal korzystać ze strony po tym terminie, prosimy zaktualizować przeglądarkę lub system operacyjny albo skorzystać z innego, nowszego urządzenia. Zadziała każda aktualna wersja przeglądarki Chrome, Edge, Firefox lub Safari.',
    interstitialUntilThen: 'Do tego czasu mogą Państwo korzystać ze strony jak dotychczas.',
    interstitialContinue: 'Przejdź do strony',
  },
};
