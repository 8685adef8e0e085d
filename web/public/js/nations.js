// nations.js — nation names in English and French, by ISO 3166 alpha-3 code
// (and the few communities a release may name).
//
// A FALLBACK only: the page takes a category's French name from the policy
// (its French marking phrase: `markingFr` from the node, `markingData`
// lang "fr" in the policy JSON) and its English name likewise when the
// policy has one. NATO's SPIF (data/liaison-policy.xml) gives French phrases
// but no English names, so this table supplies the English (and French
// where the policy has none). Short ISO 3166 names, as used in markings.
export const NATION_NAMES = {
  ALB: ['Albania', 'Albanie'], AUS: ['Australia', 'Australie'], AUT: ['Austria', 'Autriche'],
  BEL: ['Belgium', 'Belgique'], BGR: ['Bulgaria', 'Bulgarie'], CAN: ['Canada', 'Canada'],
  CHE: ['Switzerland', 'Suisse'], CZE: ['Czechia', 'Tchéquie'], DEU: ['Germany', 'Allemagne'],
  DNK: ['Denmark', 'Danemark'], ESP: ['Spain', 'Espagne'], EST: ['Estonia', 'Estonie'],
  FIN: ['Finland', 'Finlande'], FRA: ['France', 'France'], GBR: ['United Kingdom', 'Royaume-Uni'],
  GEO: ['Georgia', 'Géorgie'], GRC: ['Greece', 'Grèce'], HRV: ['Croatia', 'Croatie'],
  HUN: ['Hungary', 'Hongrie'], IRL: ['Ireland', 'Irlande'], ISL: ['Iceland', 'Islande'],
  ITA: ['Italy', 'Italie'], JPN: ['Japan', 'Japon'], KOR: ['Republic of Korea', 'République de Corée'],
  LTU: ['Lithuania', 'Lituanie'], LUX: ['Luxembourg', 'Luxembourg'], LVA: ['Latvia', 'Lettonie'],
  MKD: ['North Macedonia', 'Macédoine du Nord'], MNE: ['Montenegro', 'Monténégro'],
  MNG: ['Mongolia', 'Mongolie'], NLD: ['Netherlands', 'Pays-Bas'], NOR: ['Norway', 'Norvège'],
  NZL: ['New Zealand', 'Nouvelle-Zélande'], POL: ['Poland', 'Pologne'], PRT: ['Portugal', 'Portugal'],
  ROU: ['Romania', 'Roumanie'], SVK: ['Slovakia', 'Slovaquie'], SVN: ['Slovenia', 'Slovénie'],
  SWE: ['Sweden', 'Suède'], TUR: ['Türkiye', 'Turquie'], UKR: ['Ukraine', 'Ukraine'],
  USA: ['United States', 'États-Unis'],
  // Not nations: the communities and missions NATO also releases to
  // (ADatP-4774 Table 17; the bundled policy's Releasable To).
  EAPC: ['Euro-Atlantic Partnership Council', 'Conseil de partenariat euro-atlantique'],
  ISAF: ['International Security Assistance Force', "Force internationale d'assistance à la sécurité"],
  KFOR: ['Kosovo Force', 'Force pour le Kosovo'],
  PFP: ['Partnership for Peace', 'Partenariat pour la paix'],
  'RESOLUTE SUPPORT': ['Resolute Support Mission', 'Mission Resolute Support'],
};

function phrase(cat, lang) {
  if (lang === 'fr' && cat.markingFr && cat.markingFr !== cat.name) return cat.markingFr;
  const m = (cat.markingData || []).find((d) => (lang === 'fr' ? d.lang === 'fr' : d.lang === 'en') && d.phrase);
  return m ? m.phrase : null;
}

/** The name of a category in `lang` ('en' | 'fr'): the policy's, else the
 *  table's, else null (the code is all there is). */
export function categoryName(cat, lang) {
  const fromPolicy = phrase(cat, lang);
  if (fromPolicy) return fromPolicy;
  const row = NATION_NAMES[cat.name];
  return row ? row[lang === 'fr' ? 1 : 0] : null;
}
