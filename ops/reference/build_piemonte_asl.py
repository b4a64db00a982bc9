#!/usr/bin/env python3
"""Builds piemonte-asl.csv (ISTAT municipality -> ASL) from istat-comuni.csv.

Rule: every Piedmont municipality goes to the ASL of its province (VC, NO, AT, AL,
BI, VCO), except Torino (ASL Città di Torino), the rest of the Turin province
(TO4 unless listed in TO3 or TO5), the Cuneo province (CN1 unless listed in CN2)
and the cross-province exceptions below. The lists reproduce the municipality -> ASL
assignment of the Ministry of Health "ASL - Comuni" table as used in
github.com/xrmx/covid-19-piemonte, data/dati_per_tutto_il_periodo_tipo_comune.csv;
see README.md for how they were derived and checked.

Usage: python3 build_piemonte_asl.py  (run from this directory; rewrites the CSV)
"""
import csv
import sys

NAMES = {
    "TO": "ASL Città di Torino", "TO3": "ASL TO3", "TO4": "ASL TO4", "TO5": "ASL TO5",
    "VC": "ASL VC", "BI": "ASL BI", "NO": "ASL NO", "VCO": "ASL VCO",
    "CN1": "ASL CN1", "CN2": "ASL CN2", "AT": "ASL AT", "AL": "ASL AL",
}
BY_PROVINCE = {"002": "VC", "003": "NO", "005": "AT", "006": "AL", "096": "BI", "103": "VCO"}

# Turin province, west: districts Collegno-Grugliasco, Rivoli, Venaria (Area
# Metropolitana Nord), Orbassano, Val Sangone, Val Susa, Pinerolese.
TO3 = """Airasca|Almese|Alpignano|Angrogna|Avigliana|Bardonecchia|Beinasco|Bibiana|
Bobbio Pellice|Borgone Susa|Bricherasio|Bruino|Bruzolo|Buriasco|Bussoleno|
Buttigliera Alta|Campiglione Fenile|Cantalupa|Caprie|Caselette|Cavour|Cercenasco|
Cesana Torinese|Chianocco|Chiomonte|Chiusa di San Michele|Claviere|Coazze|Collegno|
Condove|Cumiana|Druento|Exilles|Fenestrelle|Frossasco|Garzigliana|Giaglione|Giaveno|
Givoletto|Gravere|Grugliasco|Inverso Pinasca|La Cassa|Luserna San Giovanni|Lusernetta|
Macello|Massello|Mattie|Meana di Susa|Mompantero|Moncenisio|Novalesa|Orbassano|Osasco|
Oulx|Perosa Argentina|Perrero|Pianezza|Pinasca|Pinerolo|Piossasco|Piscina|Pomaretto|
Porte|Pragelato|Prali|Pramollo|Prarostino|Reano|Rivalta di Torino|Rivoli|Roletto|Rorà|
Rosta|Roure|Rubiana|Salbertrand|Salza di Pinerolo|San Didero|San Germano Chisone|
San Gillio|San Giorio di Susa|San Pietro Val Lemina|San Secondo di Pinerolo|Sangano|
Sant'Ambrogio di Torino|Sant'Antonino di Susa|Sauze d'Oulx|Sauze di Cesana|Scalenghe|
Sestriere|Susa|Torre Pellice|Trana|Usseaux|Vaie|Val della Torre|Valgioie|
Venaria Reale|Venaus|Vigone|Villafranca Piemonte|Villar Dora|Villar Focchiardo|
Villar Pellice|Villar Perosa|Villarbasse|Virle Piemonte|Volvera"""

# Turin province, south-east: districts Chieri, Carmagnola, Moncalieri, Nichelino.
TO5 = """Andezeno|Arignano|Baldissero Torinese|Cambiano|Candiolo|Carignano|Carmagnola|
Castagnole Piemonte|Chieri|Isolabella|La Loggia|Lombriasco|Marentino|Mombello di Torino|
Moncalieri|Montaldo Torinese|Moriondo Torinese|Nichelino|None|Osasio|Pancalieri|
Pavarolo|Pecetto Torinese|Pino Torinese|Piobesi Torinese|Poirino|Pralormo|
Riva presso Chieri|Santena|Trofarello|Villastellone|Vinovo"""

# Cuneo province, districts Alba and Bra (Langhe and Roero).
CN2 = """Alba|Albaretto della Torre|Arguello|Baldissero d'Alba|Barbaresco|Barolo|Benevello|
Bergolo|Borgomale|Bosia|Bossolasco|Bra|Canale|Castagnito|Castelletto Uzzone|
Castellinaldo d'Alba|Castiglione Falletto|Castiglione Tinella|Castino|Ceresole Alba|
Cerretto Langhe|Cherasco|Cissone|Corneliano d'Alba|Cortemilia|Cossano Belbo|Cravanzana|
Diano d'Alba|Feisoglio|Gorzegno|Govone|Grinzane Cavour|Guarene|La Morra|Lequio Berria|
Levice|Magliano Alfieri|Mango|Monchiero|Monforte d'Alba|Montaldo Roero|Montelupo Albese|
Monteu Roero|Monticello d'Alba|Montà|Narzole|Neive|Neviglie|Niella Belbo|Novello|
Perletto|Pezzolo Valle Uzzone|Piobesi d'Alba|Pocapaglia|Priocca|Rocchetta Belbo|Roddi|
Roddino|Rodello|San Benedetto Belbo|Sanfrè|Santa Vittoria d'Alba|Santo Stefano Belbo|
Santo Stefano Roero|Serralunga d'Alba|Serravalle Langhe|Sinio|Sommariva Perno|
Sommariva del Bosco|Torre Bormida|Treiso|Trezzo Tinella|Verduno|Vezza d'Alba"""

# Municipalities served by an ASL of another province (old USSL boundaries).
CROSS_PROVINCE = {
    "TO4": "Crescentino|Fontanetto Po|Lamporo|Saluggia",                      # VC
    "AL": "Palazzolo Vercellese|Trino|Maranzana|Mombaldone|Moncalvo",          # VC, AT
    "VCO": "Ameno|Armeno|Miasino|Orta San Giulio|Pella|Pettenasco|San Maurizio d'Opaglio",
    "VC": "Grignasco|Prato Sesia|Romagnano Sesia|Vinzaglio|"                   # NO
          "Ailoche|Caprile|Coggiola|Crevacuore|Gifflenga|Portula|Pray|Sostegno",  # BI
    "TO5": "Albugnano|Berzano di San Pietro|Buttigliera d'Asti|Castelnuovo Don Bosco|"
           "Cerreto d'Asti|Moncucco Torinese|Passerano Marmorito|Pino d'Asti",  # AT
    "CN2": "San Giorgio Scarampi",                                              # AT
}


def names(text):
    return {n.strip() for n in text.replace("\n", "").split("|")}


def main():
    rows = [r for r in csv.DictReader(open("istat-comuni.csv", encoding="utf-8"))
            if r["region_code"] == "01"]
    by_name = {r["name"]: r["istat_code"] for r in rows}
    explicit = {}
    lists = [("TO3", TO3), ("TO5", TO5), ("CN2", CN2)] + list(CROSS_PROVINCE.items())
    for asl, text in lists:
        for name in names(text):
            if name not in by_name:
                sys.exit(f"unknown municipality: {name}")
            explicit[by_name[name]] = asl
    out = []
    for r in sorted(rows, key=lambda r: r["istat_code"]):
        code, prov = r["istat_code"], r["istat_code"][:3]
        if code == "001272":
            asl = "TO"
        elif code in explicit:
            asl = explicit[code]
        elif prov == "001":
            asl = "TO4"
        elif prov == "004":
            asl = "CN1"
        else:
            asl = BY_PROVINCE[prov]
        out.append((code, asl, NAMES[asl]))
    with open("piemonte-asl.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["istat_code", "asl_code", "asl_name"])
        w.writerows(out)
    print(f"wrote {len(out)} rows")


if __name__ == "__main__":
    main()
