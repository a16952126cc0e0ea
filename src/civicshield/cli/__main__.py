from civicshield.cli.app import main

main()
