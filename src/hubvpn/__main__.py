from hubvpn._entry import main

main()
