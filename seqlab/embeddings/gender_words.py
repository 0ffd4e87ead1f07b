"""English word lists for gender debiasing (Bolukbasi et al. 2016), all lowercase.

Every pair is written ``(feminine, masculine)``. The definitional pairs are the ten of the paper;
the bias direction computed from them points from the masculine word towards the feminine one.

The lists are plain data: pass your own to :func:`seqlab.embeddings.debias.debias` for another
language or another attribute. Multi-word expressions use ``_`` as in the word2vec phrase vocabularies.
"""

from __future__ import annotations

# The ten pairs of Bolukbasi et al. 2016, section 5: the words that define the gender direction.
DEFINITIONAL_PAIRS: tuple[tuple[str, str], ...] = (
    ("she", "he"),
    ("her", "his"),
    ("woman", "man"),
    ("mary", "john"),
    ("herself", "himself"),
    ("daughter", "son"),
    ("mother", "father"),
    ("gal", "guy"),
    ("girl", "boy"),
    ("female", "male"),
)

# Pairs that should differ only by gender after debiasing: both words end up equally far from
# every neutral word. A word occurs in at most one pair.
EQUALIZE_PAIRS: tuple[tuple[str, str], ...] = (
    ("she", "he"),
    ("her", "his"),
    ("herself", "himself"),
    ("woman", "man"),
    ("women", "men"),
    ("girl", "boy"),
    ("girls", "boys"),
    ("lady", "gentleman"),
    ("ladies", "gentlemen"),
    ("gals", "dudes"),
    ("female", "male"),
    ("females", "males"),
    ("feminine", "masculine"),
    ("mother", "father"),
    ("mothers", "fathers"),
    ("mom", "dad"),
    ("moms", "dads"),
    ("motherhood", "fatherhood"),
    ("maternal", "paternal"),
    ("maternity", "paternity"),
    ("daughter", "son"),
    ("daughters", "sons"),
    ("sister", "brother"),
    ("sisters", "brothers"),
    ("sisterhood", "brotherhood"),
    ("twin_sister", "twin_brother"),
    ("aunt", "uncle"),
    ("aunts", "uncles"),
    ("niece", "nephew"),
    ("nieces", "nephews"),
    ("grandma", "grandpa"),
    ("grandmother", "grandfather"),
    ("grandmothers", "grandfathers"),
    ("granddaughter", "grandson"),
    ("granddaughters", "grandsons"),
    ("stepmother", "stepfather"),
    ("stepdaughter", "stepson"),
    ("wife", "husband"),
    ("wives", "husbands"),
    ("widow", "widower"),
    ("bride", "groom"),
    ("fiancee", "fiance"),
    ("girlfriend", "boyfriend"),
    ("girlfriends", "boyfriends"),
    ("ex_girlfriend", "ex_boyfriend"),
    ("schoolgirl", "schoolboy"),
    ("schoolgirls", "schoolboys"),
    ("queen", "king"),
    ("queens", "kings"),
    ("princess", "prince"),
    ("princesses", "princes"),
    ("duchess", "duke"),
    ("empress", "emperor"),
    ("baroness", "baron"),
    ("madam", "sir"),
    ("mrs", "mr"),
    ("matriarch", "patriarch"),
    ("nun", "priest"),
    ("nuns", "priests"),
    ("convent", "monastery"),
    ("sorority", "fraternity"),
    ("actress", "actor"),
    ("actresses", "actors"),
    ("waitress", "waiter"),
    ("waitresses", "waiters"),
    ("stewardess", "steward"),
    ("landlady", "landlord"),
    ("businesswoman", "businessman"),
    ("businesswomen", "businessmen"),
    ("chairwoman", "chairman"),
    ("spokeswoman", "spokesman"),
    ("congresswoman", "congressman"),
    ("councilwoman", "councilman"),
    ("policewoman", "policeman"),
    ("sportswoman", "sportsman"),
    ("mare", "stallion"),
    ("filly", "colt"),
    ("hen", "rooster"),
    ("cow", "bull"),
    ("ovarian_cancer", "prostate_cancer"),
    ("estrogen", "testosterone"),
)

# Words whose meaning carries gender, so debiasing leaves their gender component alone; every
# word of the pairs above is added below.
_GENDER_SPECIFIC = """
he him his himself she her hers herself
man men woman women boy boys girl girls lady ladies gentleman gentlemen gal gals guy dude dudes
lad lads lass lasses fella fellas chap chaps damsel maiden maidens bro bros brethren menfolk womenfolk
mother mothers father fathers mom moms mum mums mama mamma mommy mummy dad dads daddy papa
daughter daughters son sons sister sisters brother brothers stepsister stepbrother half_sister
half_brother twin_sister twin_brother stepmother stepfather stepdaughter stepson godmother godfather
goddaughter godson grandmother grandmothers grandfather grandfathers grandma grandmas grandpa grandpas
granny grannies gramps granddaughter granddaughters grandson grandsons great_grandmother great_grandfather
mother_in_law father_in_law daughter_in_law son_in_law sister_in_law brother_in_law
aunt aunts auntie aunty uncle uncles niece nieces nephew nephews
wife wives husband husbands widow widows widower widowers bride brides bridegroom groom grooms
bridesmaid bridesmaids groomsmen fiance fiancee girlfriend girlfriends boyfriend boyfriends
ex_girlfriend ex_boyfriend bachelor bachelors bachelorette spinster mistress mistresses
housewife housewives matriarch patriarch matron matrons debutante heiress heiresses
motherhood fatherhood sisterhood brotherhood womanhood manhood girlhood boyhood
maternal paternal maternity paternity motherly fatherly sisterly brotherly womanly manly
girlish boyish girly ladylike gentlemanly feminine masculine femininity masculinity
female females male males lesbian lesbians
schoolgirl schoolgirls schoolboy schoolboys cowgirl cowgirls cowboy cowboys showgirl showgirls
playboy paperboy busboy choirboy altar_boy tomboy
mr mrs ms madam madame sir lord lords
king kings queen queens prince princes princess princesses duke dukes duchess duchesses
emperor emperors empress empresses baron barons baroness countess marquess marchioness
viscount viscountess earl earls
monk monks nun nuns priest priests priestess abbot abbess friar convent monastery
sorority sororities fraternity fraternities
actor actors actress actresses waiter waiters waitress waitresses steward stewards stewardess
stewardesses hostess hostesses heroine heroines landlady landlord landlords masseuse masseur
seamstress seamstresses sorceress enchantress goddess goddesses headmistress headmaster headmasters
schoolmistress schoolmaster governess usherette comedienne songstress poetess ballerina ballerinas
maid maids housemaid barmaid barmaids nursemaid maidservant manservant
businessman businessmen businesswoman businesswomen chairman chairmen chairwoman chairwomen
spokesman spokesmen spokeswoman spokeswomen congressman congressmen congresswoman congresswomen
councilman councilmen councilwoman councilwomen assemblyman assemblywoman alderman aldermen
policeman policemen policewoman policewomen fireman firemen salesman salesmen saleswoman
sportsman sportsmen sportswoman sportswomen horseman horsemen horsewoman countryman countrymen
countrywoman kinsman kinsmen kinswoman statesman statesmen stateswoman craftsman craftsmen
craftswoman fisherman fishermen foreman cameraman cameramen camerawoman anchorman anchorwoman
weatherman doorman repairman handyman newsman newswoman clergyman clergymen nobleman noblemen
noblewoman gentlewoman serviceman servicemen servicewoman servicewomen airman airmen
workman workmen tradesman tradesmen
mare mares stallion stallions filly fillies colt colts gelding geldings hen hens rooster roosters
cow cows bull bulls ewe ewes boar boars stag stags vixen lioness lionesses tigress
uterus womb ovary ovaries ovarian ovarian_cancer cervical_cancer prostate prostate_cancer
testicle testicles testicular testosterone estrogen menstruation menstrual menopause
pregnant pregnancy sperm
"""

GENDER_SPECIFIC_WORDS: frozenset[str] = frozenset(_GENDER_SPECIFIC.split()).union(
    word for pair in DEFINITIONAL_PAIRS + EQUALIZE_PAIRS for word in pair
)
